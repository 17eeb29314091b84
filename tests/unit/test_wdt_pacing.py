"""Pacing the calls: a hook before every HTTP request, rate-limit answers waited out, WDT's per-call buyer cap."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.wdt_samples import TRADE_PUSH, URLS, raw_trade
from wdtpanel.wdt import EDITION_ENTERPRISE, EDITION_ULTIMATE, WdtAccount, WdtClient, WdtTransientError
from wdtpanel.wdt.editions import RATE_LIMIT_ANSWERS
from wdtpanel.wdt.wire import RATE_LIMIT_BACKOFF

BOTH = pytest.mark.parametrize("edition", [EDITION_ENTERPRISE, EDITION_ULTIMATE])


class Recorder:
    def __init__(self):
        self.names, self.sleeps = [], []

    def client(self, edition: str) -> WdtClient:
        account = WdtAccount(edition, URLS[edition], "sid01", "key01", "secret:salt")
        return WdtClient(account, before_call=self.names.append, sleep=self.sleeps.append)


def accepted(edition: str) -> dict:
    if edition == EDITION_ENTERPRISE:
        return {"code": 0, "new_count": 1, "chg_count": 0}
    return {"status": 0, "data": {"new_count": 1, "chg_count": 0, "error_list": []}}


def rate_limited(edition: str) -> dict:
    code, message = RATE_LIMIT_ANSWERS[edition]
    return {"code" if edition == EDITION_ENTERPRISE else "status": code, "message": message}


@BOTH
def test_before_call_hears_of_every_http_request_by_its_wdt_name(wdt, edition):
    wdt.post(TRADE_PUSH[edition], json=accepted(edition))
    recorder = Recorder()
    with recorder.client(edition) as client:
        client.push_trades("mall01", [raw_trade(f"T{n}", buyer_nick=f"买家{n}") for n in range(120)])
    name = "trade_push" if edition == EDITION_ENTERPRISE else "sales.RawTrade.pushSelf2"
    assert recorder.names == [name] * len(wdt.calls) and len(wdt.calls) == (3 if edition == EDITION_ENTERPRISE else 2)


def test_an_exception_in_before_call_stops_the_call(wdt):
    def lease_lost(name: str) -> None:
        raise RuntimeError("claim lost")

    account = WdtAccount(EDITION_ULTIMATE, URLS[EDITION_ULTIMATE], "sid01", "key01", "secret:salt")
    with WdtClient(account, before_call=lease_lost) as client, pytest.raises(RuntimeError):
        client.push_trades("mall01", [raw_trade()])
    assert not wdt.calls


@BOTH
def test_a_rate_limit_answer_is_waited_out_and_the_call_tried_again(wdt, edition):
    wdt.post(TRADE_PUSH[edition], json=rate_limited(edition))
    wdt.post(TRADE_PUSH[edition], json=rate_limited(edition))
    wdt.post(TRADE_PUSH[edition], json=accepted(edition))
    recorder = Recorder()
    with recorder.client(edition) as client:
        assert client.push_trades("mall01", [raw_trade()]) == {"T1": None}
    assert recorder.sleeps == list(RATE_LIMIT_BACKOFF[:2])
    assert len(recorder.names) == len(wdt.calls) == 3


def test_http_429_is_waited_out_too(wdt):
    wdt.post(TRADE_PUSH[EDITION_ENTERPRISE], status=429, body="")
    wdt.post(TRADE_PUSH[EDITION_ENTERPRISE], json=accepted(EDITION_ENTERPRISE))
    recorder = Recorder()
    with recorder.client(EDITION_ENTERPRISE) as client:
        assert client.push_trades("mall01", [raw_trade()]) == {"T1": None}
    assert recorder.sleeps == [RATE_LIMIT_BACKOFF[0]]


def test_a_rate_limit_that_lasts_is_raised_after_the_backoff(wdt):
    wdt.post(TRADE_PUSH[EDITION_ULTIMATE], json=rate_limited(EDITION_ULTIMATE))
    recorder = Recorder()
    with recorder.client(EDITION_ULTIMATE) as client, pytest.raises(WdtTransientError) as caught:
        client.push_trades("mall01", [raw_trade()])
    assert caught.value.code == "rate_limited"
    assert recorder.sleeps == list(RATE_LIMIT_BACKOFF) and len(wdt.calls) == len(RATE_LIMIT_BACKOFF) + 1


def test_enterprise_calls_carry_at_most_30_orders_of_one_buyer(wdt):
    wdt.post(TRADE_PUSH[EDITION_ENTERPRISE], json=accepted(EDITION_ENTERPRISE))
    trades = [raw_trade(f"A{n}", buyer_nick="老客户") for n in range(70)] + [
        raw_trade(f"B{n}", buyer_nick=f"新客户{n}") for n in range(20)
    ]
    with Recorder().client(EDITION_ENTERPRISE) as client:
        results = client.push_trades("mall01", trades)
    assert len(results) == 90 and all(error is None for error in results.values())
    batches = [json.loads(dict(parse_qsl(call.request.body))["trade_list"]) for call in wdt.calls]
    assert all(sum(item["buyer_nick"] == "老客户" for item in batch) <= 30 for batch in batches)
    assert all(len(batch) <= 50 for batch in batches) and sum(map(len, batches)) == 90


def test_ultimate_has_no_buyer_cap(wdt):
    wdt.post(TRADE_PUSH[EDITION_ULTIMATE], json=accepted(EDITION_ULTIMATE))
    with Recorder().client(EDITION_ULTIMATE) as client:
        client.push_trades("mall01", [raw_trade(f"A{n}", buyer_nick="老客户") for n in range(70)])
    assert len(wdt.calls) == 1
    assert urlsplit(wdt.calls[0].request.url).path == "/openapi"
