"""Failures on demand for the simulator's API calls: by rate (seeded, so repeatable) or exactly the next N calls."""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass

KINDS = ("5xx", "timeout", "rate_limit", "bad_json")


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    rate_limit_rate: float = 0.0
    bad_json_rate: float = 0.0
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
            rates = (self.settings.error_5xx_rate, self.settings.timeout_rate, self.settings.rate_limit_rate,
                     self.settings.bad_json_rate)
            for kind, rate in zip(KINDS, rates):
                if rate and self.random.random() < rate:
                    return kind
            return None
