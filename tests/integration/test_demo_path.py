"""The README's demo path: `flask demo` leaves the merchant switched on with goods and carriers; an order made now
(as the README's curl makes it) goes to the simulator and comes back with its shipment; the CLI commands the
README uses work as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import current_app

from tests.helpers import MallApi, order_payload, run_worker
from wdtpanel.accounts import authenticate, find_merchant
from wdtpanel.extensions import db
from wdtpanel.merchant_config import load_config
from wdtpanel.queries.goods import problem_counts, unknown_codes


def readme_order(now: str) -> dict:
    payload = order_payload("M1001", created_at=now, paid_at=now, updated_at=now)
    payload["lines"] = payload["lines"][:1]
    payload["lines"][0]["quantity"] = 1
    payload["amounts"] = {"post": "10.00", "discount": "0", "paid": "76.60"}  # as the README's example
    return payload


def test_the_readme_demo_path(app, wdt_simulator):
    current_app.config["WDT_SIMULATOR_URL"] = wdt_simulator.root_url  # the CLI runs in the test's app context
    cli = app.test_cli_runner()
    loaded = cli.invoke(args=["demo"])
    assert loaded.exit_code == 0
    again = cli.invoke(args=["demo"])  # every make run runs it: nothing doubles, the credentials print again
    assert again.output == loaded.output
    merchant = find_merchant("demo")
    config = load_config(merchant.id)
    assert config.enabled and config.enabled_at < datetime.now(UTC)
    assert {m.wdt_code for m in config.logistics} == {"ZTO", "SF"}
    counts = problem_counts(merchant.id, unknown_codes(merchant.id))
    assert (counts[""], counts["missing"], counts["duplicate"]) == (7, 1, 2)  # G1's red cup shares its code with G5
    credentials = dict(
        re.findall(r"export (API_KEY|API_SECRET)=(\S+)", cli.invoke(args=["api-credentials", "demo"]).output)
    )
    assert credentials["API_KEY"] == merchant.api_key and credentials["API_KEY"] in loaded.output

    mall = MallApi(app.test_client(), merchant)
    assert mall.secret == credentials["API_SECRET"]
    assert mall.post("/api/v1/orders", readme_order(datetime.now(UTC).astimezone().isoformat())).status_code == 201
    run_worker()  # the order, and the demo's goods queued by `flask demo`
    assert mall.get("/api/v1/orders/M1001").get_json()["sync_state"] == "pushed"
    platform = {(row["goods_id"], row["spec_id"]): row["spec_no"] for row in wdt_simulator.state()["platform_goods"]}
    assert platform[("G1", "S2")] == "DEMO-0002" and platform[("G2", "G2")] == "DEMO-0003"
    assert ("G3", "S32") not in platform  # no code: not pushed
    wdt_simulator.ship("M1001", "ZTO", "ZT1000000001")
    pulled = cli.invoke(args=["pull-now", "demo"])
    assert pulled.exit_code == 0 and "shipping: {'records': 1, 'applied': 1" in pulled.output
    answer = mall.get("/api/v1/orders/M1001").get_json()
    assert answer["shipping_state"] == "shipped"
    assert (
        answer["shipments"][0]["tracking_no"] == "ZT1000000001"
        and answer["shipments"][0]["carrier_code"] == "zhongtong"
    )


def test_create_user_takes_the_password_as_an_option(app):
    cli = app.test_cli_runner()
    cli.invoke(args=["create-merchant", "shop-a", "商户A"])
    made = cli.invoke(args=["create-user", "shop-a", "alice", "--role", "staff", "--password", "a long passphrase"])
    assert made.exit_code == 0
    db.session.expire_all()
    user = authenticate("shop-a", "alice", "a long passphrase")
    assert user is not None and user.role == "staff"
    assert "no merchant" in cli.invoke(args=["create-user", "nope", "x", "--password", "y"]).output


def test_pull_now_without_redis_says_where_it_looked(app):
    cli = app.test_cli_runner()
    assert cli.invoke(args=["demo"]).exit_code == 0  # switched on: a pull takes the merchant's lock in Redis
    current_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    current_app.extensions.pop("wdtpanel_redis", None)
    result = cli.invoke(args=["pull-now", "demo"])
    assert result.exit_code == 1 and "cannot reach Redis at redis://127.0.0.1:1/0" in result.output
    assert "Traceback" not in result.output
