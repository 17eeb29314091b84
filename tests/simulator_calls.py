"""Signed calls to a simulator app through Flask's test client, as each edition's client sends them, so a test can
send exactly the payload it is about (the real WdtClient would fix or refuse it first)."""

from __future__ import annotations

import time

from wdtpanel.simulator import SimulatorAccount
from wdtpanel.wdt.payloads import compact_json, enterprise_trade, ultimate_trade
from wdtpanel.wdt.signing import enterprise_sign, ultimate_sign, ultimate_timestamp

DEMO = SimulatorAccount()


def enterprise_call(
    sim, script: str, params: dict, appsecret: str = DEMO.appsecret, unix_time: float | None = None, **overrides
) -> dict:
    """A signed enterprise call; `overrides` change the form after signing."""
    form = {
        "sid": DEMO.sid,
        "appkey": DEMO.appkey,
        "timestamp": str(int(unix_time or time.time())),
        **{key: value if isinstance(value, str) else compact_json(value) for key, value in params.items()},
    }
    form["sign"] = enterprise_sign(form, appsecret)
    form.update(overrides)
    return sim.post(f"/openapi2/{script}.php", data=form).get_json()


def ultimate_call(sim, method: str, args: list, unix_time: float | None = None, **pager: str) -> dict:
    secret, salt = DEMO.appsecret.split(":", 1)
    body = compact_json(args)
    query = {
        "sid": DEMO.sid,
        "key": DEMO.appkey,
        "salt": salt,
        "method": method,
        "v": "1.0",
        "timestamp": str(ultimate_timestamp(unix_time or time.time())),
        **pager,
    }
    query["sign"] = ultimate_sign({**query, "body": body}, secret)
    return sim.post("/openapi", query_string=query, data=body, content_type="application/json").get_json()


def push_enterprise(sim, *trades: dict, switch: str = "1") -> dict:
    """trade_push of wire-form trades (enterprise_trade(...) dicts)."""
    return enterprise_call(sim, "trade_push", {"shop_no": DEMO.shop_no, "switch": switch, "trade_list": list(trades)})


def push_ultimate(sim, *trades: tuple[dict, list[dict]]) -> dict:
    """pushSelf2 of (head, lines) pairs (ultimate_trade(...) results)."""
    heads = [head for head, _ in trades]
    lines = [line for _, rows in trades for line in rows]
    return ultimate_call(sim, "sales.RawTrade.pushSelf2", [DEMO.shop_no, heads, lines])


def push_raw(sim, edition: str, *raw_trades, change=None) -> dict:
    """Push edition-neutral RawTrades in `edition`'s wire form; `change(head, lines)` edits the wire form first.
    Returns {"ok": bool, "message": WDT's refusal of the call or of the (first) trade}."""
    if edition == "enterprise":
        wire = []
        for raw in raw_trades:
            trade = enterprise_trade(raw)
            if change:
                change(trade, trade["order_list"])
            wire.append(trade)
        answer = push_enterprise(sim, *wire)
        return {"ok": answer["code"] == 0, "message": answer["message"], "answer": answer}
    wire_pairs = []
    for raw in raw_trades:
        head, lines = ultimate_trade(raw)
        if change:
            change(head, lines)
        wire_pairs.append((head, lines))
    answer = push_ultimate(sim, *wire_pairs)
    errors = (answer.get("data") or {}).get("error_list") or []
    message = answer.get("message") or (errors[0]["error"] if errors else "")
    return {"ok": answer["status"] == 0 and not errors, "message": message, "answer": answer}
