"""Parallel writers on one order or goods: the newest snapshot wins every time, decided by the database.

Real threads, each with its own test client, against the suite's database (a SQLite file, or PostgreSQL with
WDTPANEL_TEST_DATABASE_URL). Every round starts 20 writers at once on a barrier, in a shuffled order."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.helpers import MallApi, order_payload
from wdtpanel.extensions import db
from wdtpanel.models import Goods, Order, OrderLine, Spec

WRITERS, ROUNDS = 20, 20
BASE = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def version_time(version: int) -> datetime:
    return BASE + timedelta(minutes=version)


def in_parallel(app, merchant, posts: list[tuple[str, dict]]) -> list[int | str]:
    """POST every (path, payload) from its own thread, all released together; the status codes, in order."""
    barrier = threading.Barrier(len(posts))
    statuses: list[int | str] = ["not run"] * len(posts)

    def post(index: int, api: MallApi, path: str, payload: dict) -> None:
        barrier.wait()
        try:
            statuses[index] = api.post(path, payload).status_code
        except Exception as exc:  # reported in the assertion, with the others' answers
            statuses[index] = repr(exc)

    threads = [
        threading.Thread(target=post, args=(i, MallApi(app.test_client(), merchant), path, payload))
        for i, (path, payload) in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def race(app, merchant, rng: random.Random, path: str, body_of_version) -> list[int | str]:
    """Versions 1..WRITERS of one snapshot, POSTed at once in a shuffled order."""
    versions = list(range(1, WRITERS + 1))
    rng.shuffle(versions)
    return in_parallel(app, merchant, [(path, body_of_version(version)) for version in versions])


def order_version(order_no: str, version: int) -> dict:
    """Snapshot `version` of the order: the receiver's address, the memo and the line set all say which."""
    payload = order_payload(order_no, updated_at=version_time(version).isoformat(), seller_memo=f"v{version}")
    payload["receiver"]["address"] = f"文三路 {version} 号"
    if version % 2:  # odd versions carry a third line: the line set must follow the winner too
        payload["lines"].append(dict(payload["lines"][1], line_id="L3", goods_id="G3", price="0"))
    return payload


def goods_version(goods_id: str, version: int) -> dict:
    specs = [
        {"spec_id": f"S{n}", "name": f"v{version}", "merchant_code": f"C{version}-{n}", "price": "1"}
        for n in range(1, 2 + version % 3)
    ]
    return {
        "goods_id": goods_id,
        "name": f"杯 v{version}",
        "updated_at": version_time(version).isoformat(),
        "specs": specs,
    }


def test_parallel_order_snapshots_end_at_the_newest(app, mall_api):
    rng = random.Random(20261129)
    for round_no in range(ROUNDS):
        order_no = f"R{round_no}"
        statuses = race(
            app, mall_api.merchant, rng, "/api/v1/orders", lambda v, order_no=order_no: order_version(order_no, v)
        )
        assert statuses.count(201) == 1 and set(statuses) <= {200, 201}, statuses
        db.session.expire_all()
        order = db.session.scalar(
            select(Order).where(Order.merchant_id == mall_api.merchant.id, Order.order_no == order_no)
        )
        assert (order.mall_updated_at, order.seller_memo, order.receiver_address) == (
            version_time(WRITERS),
            f"v{WRITERS}",
            f"文三路 {WRITERS} 号",
        ), f"round {round_no}"
        assert [line.mall_line_id for line in order.lines] == ["L1", "L2"]  # version 20 has two lines
    assert db.session.scalar(select(func.count(Order.id))) == ROUNDS
    assert db.session.scalar(select(func.count(OrderLine.id))) == 2 * ROUNDS


def test_parallel_goods_snapshots_end_at_the_newest(app, mall_api):
    rng = random.Random(20261130)
    for round_no in range(ROUNDS):
        goods_id = f"G{round_no}"
        statuses = race(
            app,
            mall_api.merchant,
            rng,
            "/api/v1/goods",
            lambda v, goods_id=goods_id: {"goods": [goods_version(goods_id, v)]},
        )
        assert set(statuses) == {200}, statuses
        db.session.expire_all()
        goods = db.session.scalar(
            select(Goods).where(Goods.merchant_id == mall_api.merchant.id, Goods.mall_goods_id == goods_id)
        )
        assert (goods.mall_updated_at, goods.name) == (version_time(WRITERS), f"杯 v{WRITERS}"), f"round {round_no}"
        assert sorted((s.mall_spec_id, s.name, s.merchant_code) for s in goods.specs) == [
            ("S1", f"v{WRITERS}", f"C{WRITERS}-1"),
            ("S2", f"v{WRITERS}", f"C{WRITERS}-2"),
            ("S3", f"v{WRITERS}", f"C{WRITERS}-3"),
        ]
    assert db.session.scalar(select(func.count(Goods.id))) == ROUNDS
    assert db.session.scalar(select(func.count(Spec.id))) == 3 * ROUNDS


def test_parallel_goods_batches_naming_the_same_goods_in_any_order_all_succeed(app, mall_api):
    """Batches list two goods in opposite orders: rows are taken in one order, so no writer waits in a circle
    (PostgreSQL would abort one as a deadlock)."""
    rng = random.Random(20261201)
    for round_no in range(ROUNDS):
        pair = [f"A{round_no}", f"B{round_no}"]
        statuses = race(
            app,
            mall_api.merchant,
            rng,
            "/api/v1/goods",
            lambda v, pair=pair: {
                "goods": [goods_version(goods_id, v) for goods_id in (pair if v % 2 else pair[::-1])]
            },
        )
        assert set(statuses) == {200}, statuses
        db.session.expire_all()
        names = db.session.scalars(select(Goods.name).where(Goods.mall_goods_id.in_(pair))).all()
        assert names == [f"杯 v{WRITERS}"] * 2, f"round {round_no}"
