"""Pacing calls to WDT: one token bucket per merchant and edition in Redis, shared by every worker, set below WDT's
per-minute quota. A rate-limit answer empties the bucket for a while, so all workers back off together."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Takes one token, refilling at `rate` tokens/s up to `capacity`. Answers the milliseconds to wait for it (0: now),
# or -1 when that is longer than `max_wait` (nothing is taken then). Uses Redis's clock, so workers agree.
TAKE = """
local rate, capacity, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, at = capacity, now end
tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) * 1000 / rate) end
if wait > max_wait then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
  return -1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
redis.call('PEXPIRE', KEYS[1], 600000)
return wait
"""


class PacingExceeded(Exception):
    """No call slot within the longest wait allowed: the caller tries again later."""


class Pacer:
    """Call slots for one merchant's WDT account, at most `per_minute` a minute with a burst of `burst`."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        per_minute: float,
        burst: int,
        max_wait: float,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.redis, self.key, self.sleep = redis, key, sleep
        self.rate, self.burst, self.max_wait = per_minute / 60.0, burst, max_wait
        self.take = redis.register_script(TAKE)

    def wait_for_slot(self) -> float:
        """Block until a call may go out (returns the seconds waited); raise PacingExceeded when that is further off
        than max_wait."""
        try:
            wait_ms = int(self.take(keys=[self.key], args=[self.rate, self.burst, int(self.max_wait * 1000)]))
        except RedisError:  # without Redis nothing is shared; the call goes out and WDT's answer decides
            log.warning("pacing unavailable (Redis down): calling WDT unpaced")
            return 0.0
        if wait_ms < 0:
            raise PacingExceeded(self.key)
        if wait_ms:
            self.sleep(wait_ms / 1000)
        return wait_ms / 1000

    def back_off(self, seconds: float) -> None:
        """WDT said we call too often: no slot for anyone for about `seconds`."""
        try:
            self.redis.hset(
                self.key, mapping={"tokens": str(-self.rate * seconds), "at": int(self.redis.time()[0] * 1000)}
            )
        except RedisError:
            log.warning("could not record WDT's rate limit (Redis down)")
