"""Named locks in Redis with a short time limit, renewed while the work goes on, for work one process at a time
may do (a merchant's pull). A holder that dies blocks the next one at most `seconds`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import LockError
from redis.lock import Lock

from .extensions import redis_connection

log = logging.getLogger(__name__)


class Held:
    def __init__(self, lock: Lock | None, seconds: int):
        self.lock, self.seconds = lock, seconds

    def __bool__(self) -> bool:
        return self.lock is not None

    def renew(self) -> None:
        """Another `seconds` from now (call it between steps of the work)."""
        if self.lock is not None:
            self.lock.reacquire()


@contextmanager
def exclusive(name: str, seconds: int) -> Iterator[Held]:
    """Yields a truthy Held when this process holds `name` now; never waits."""
    lock = redis_connection().lock(f"wdtpanel:lock:{name}", timeout=seconds, blocking=False)
    held = Held(lock if lock.acquire() else None, seconds)
    try:
        yield held
    finally:
        if held:
            try:
                lock.release()
            except LockError:  # held past its time: another holder may run now, which the work tolerates
                log.warning("lock %s expired before it was released", name)
