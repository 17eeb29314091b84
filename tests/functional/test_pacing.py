"""Calls to WDT are paced by one token bucket per merchant in the real Redis, shared by every worker."""

from __future__ import annotations

import pytest
from redis import Redis

from wdtpanel.extensions import connect_redis
from wdtpanel.pacing import Pacer, PacingExceeded


def pacer(redis_url: str, waits: list[float], **settings) -> Pacer:
    options = {"per_minute": 60, "burst": 2, "max_wait": 10.0, **settings}
    return Pacer(Redis.from_url(redis_url), "wdtpanel:pace:test", sleep=waits.append, **options)


@pytest.fixture(autouse=True)
def empty_bucket(redis_url):
    Redis.from_url(redis_url).delete("wdtpanel:pace:test")


def test_workers_share_one_bucket(redis_url):
    waits: list[float] = []
    first, second = pacer(redis_url, waits), pacer(redis_url, waits)  # two workers, one merchant
    first.wait_for_slot()
    second.wait_for_slot()
    assert waits == []  # the burst
    first.wait_for_slot()
    assert len(waits) == 1 and 0.9 <= waits[0] <= 1.0  # one call a second at 60 a minute


def test_a_wait_longer_than_allowed_takes_nothing(redis_url):
    waits: list[float] = []
    slow = pacer(redis_url, waits, per_minute=1, burst=1, max_wait=5.0)
    slow.wait_for_slot()
    with pytest.raises(PacingExceeded):
        slow.wait_for_slot()  # the next slot is 60 s away
    assert waits == []


def test_a_rate_limit_answer_stops_every_worker(redis_url):
    waits: list[float] = []
    first, second = pacer(redis_url, waits), pacer(redis_url, waits, max_wait=100.0)
    first.back_off(30)
    second.wait_for_slot()
    assert len(waits) == 1 and waits[0] >= 29


def test_without_redis_calls_go_out_unpaced():
    waits: list[float] = []
    down = Pacer(connect_redis("redis://127.0.0.1:1/0"), "wdtpanel:pace:test", 1, 1, 1.0, sleep=waits.append)
    for _ in range(3):
        down.wait_for_slot()
    assert waits == []
