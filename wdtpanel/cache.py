"""Short-lived answers kept in Redis, for figures a page shows on every load but may show a few seconds late."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar

from redis.exceptions import RedisError

from .extensions import redis_connection

log = logging.getLogger(__name__)
T = TypeVar("T")


def cached(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """`compute()`'s JSON-able answer, reused for `seconds` (0: always computed). Without Redis: computed."""
    if seconds <= 0:
        return compute()
    name = f"wdtpanel:cache:{key}"
    try:
        stored = redis_connection().get(name)
    except RedisError:
        return compute()
    if stored is not None:
        return json.loads(stored)
    value = compute()
    try:
        redis_connection().set(name, json.dumps(value), ex=seconds)
    except RedisError:
        log.warning("could not cache %s (Redis unavailable)", key)
    return value
