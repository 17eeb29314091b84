"""What the simulator does to calls besides answering them: failures on demand (by rate, seeded so repeatable, or
exactly the next N calls) and WDT's per-minute call quota (docs/wdt-protocol.md#r-quota)."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# The call is not carried out: 5xx, timeout (a late 504), rate_limit, bad_json. The call IS carried out but its
# answer is lost: timeout_after_store, 5xx_after_store.
KINDS = ("5xx", "timeout", "rate_limit", "bad_json", "timeout_after_store", "5xx_after_store")
AFTER_STORE = ("timeout_after_store", "5xx_after_store")
# [?] docs/wdt-protocol.md#r-quota: WDT publishes no number; the simulator has no quota unless one is set.
DEFAULT_CALLS_PER_MINUTE: int | None = None
QUOTA_WINDOW_S = 60.0


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    rate_limit_rate: float = 0.0
    bad_json_rate: float = 0.0
    timeout_after_store_rate: float = 0.0
    error_5xx_after_store_rate: float = 0.0
    timeout_sleep_s: float = 2.0  # a "timeout" answers only after this long; clients should give up before
    seed: int | None = None


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.configure()

    def configure(self, **settings) -> FaultSettings:
        """Replace the settings (unknown names raise TypeError) and forget queued failures."""
        with self.lock:
            self.settings = FaultSettings(**settings)
            self.random = random.Random(self.settings.seed)
            self.queued: list[str] = []
            return self.settings

    def fail_next(self, kind: str, count: int) -> list[str]:
        """Make the next `count` calls fail with `kind`; returns the failures now queued."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        with self.lock:
            self.queued += [kind] * count
            return list(self.queued)

    def draw(self) -> str | None:
        """The failure this call meets, if any."""
        with self.lock:
            if self.queued:
                return self.queued.pop(0)
            rates = (
                self.settings.error_5xx_rate,
                self.settings.timeout_rate,
                self.settings.rate_limit_rate,
                self.settings.bad_json_rate,
                self.settings.timeout_after_store_rate,
                self.settings.error_5xx_after_store_rate,
            )
            for kind, rate in zip(KINDS, rates, strict=True):
                if rate and self.random.random() < rate:
                    return kind
            return None


class Quota:
    """At most `calls_per_minute` calls per account in any 60 seconds (a sliding window: stricter than counting per
    clock minute); None for no quota. Calls refused for the quota do not count."""

    def __init__(
        self, calls_per_minute: int | None = DEFAULT_CALLS_PER_MINUTE, clock: Callable[[], float] = time.monotonic
    ):
        self.default, self.clock = calls_per_minute, clock
        self.lock = threading.Lock()
        self.configure(calls_per_minute)

    def configure(self, calls_per_minute: int | None) -> dict:
        if calls_per_minute is not None and (
            isinstance(calls_per_minute, bool) or not isinstance(calls_per_minute, int) or calls_per_minute < 1
        ):
            raise ValueError("calls_per_minute must be a whole number ≥ 1, or null for no quota")
        with self.lock:
            self.calls_per_minute = calls_per_minute
            self.calls: dict[str, deque[float]] = {}
            self.refused = 0
            return self.describe()

    def reset(self) -> dict:
        return self.configure(self.default)

    def admit(self, account: str) -> bool:
        """Count this call of `account`, or refuse it when the last 60 seconds hold the quota already."""
        with self.lock:
            if self.calls_per_minute is None:
                return True
            moment = self.clock()
            window = self.calls.setdefault(account, deque())
            while window and window[0] <= moment - QUOTA_WINDOW_S:
                window.popleft()
            if len(window) >= self.calls_per_minute:
                self.refused += 1
                return False
            window.append(moment)
            return True

    def describe(self) -> dict:
        return {
            "calls_per_minute": self.calls_per_minute,
            "refused": self.refused,
            "calls_in_window": {account: len(calls) for account, calls in self.calls.items()},
        }
