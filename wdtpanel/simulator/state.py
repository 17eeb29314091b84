"""What the fake WDT knows and the rules it applies, whatever edition's protocol carried the call.

Every rule a caller breaks is recorded in `violations` (rule = an anchor of docs/wdt-protocol.md), whether WDT refuses
the call, fails the trade later at 递交, or silently stores something wrong."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

from ..wdt.editions import EDITION_ENTERPRISE
from ..wdt.fields import (
    ENTERPRISE_GOODS_LINE,
    ENTERPRISE_REFUND,
    ENTERPRISE_REFUND_LINE,
    ULTIMATE_GOODS_LINE,
    ULTIMATE_REFUND,
)
from ..wdt.payloads import OWN_PLATFORM_ID, SHANGHAI, wdt_time
from . import goods
from .rules import FAILS_AT_SUBMIT, REFUSED, Problem, Refusal, check_fields, number, trade_problems

STAGES = ["待递交", "已递交", "已打印", "已出库"]  # then 确认发货 (ship) makes it 已发货 or 部分发货
SUBMITTED, SHIPPED_OUT = STAGES[1], STAGES[3]
SHIPPED, PART_SHIPPED = "已发货", "部分发货"
# raw trade process_status as sales.RawTrade.searchSelfOrder reports it
PROCESS_STATUS = {STAGES[0]: 10, STAGES[1]: 20, STAGES[2]: 20, STAGES[3]: 20, PART_SHIPPED: 30, SHIPPED: 40}
# logistics_no -> (name, logistics_type per docs/wdt-protocol.md#t-logistics-type)
DEMO_LOGISTICS = {
    "ZTO": ("中通快递", 5),
    "YTO": ("圆通速递", 4),
    "SF": ("顺丰速运", 8),
    "YD": ("韵达快递", 9),
    "STO": ("申通快递", 6),
    "EMS": ("EMS", 3),
    "JD": ("京东快递", 110),
    "JT": ("极兔速递", 108),
}
DEMO_STOCK = 100
# [?] docs/wdt-protocol.md#r-unknown-code: whether WDT refuses an unknown 商家编码 at push (strict switch) or only
# leaves the goods unmatched for 递交 is not documented; the simulator refuses it at push, as the panel expects.
UNKNOWN_CODE_REFUSED_AT_PUSH = True
# [?] docs/wdt-protocol.md#r-line-frozen: the docs say num/price "cannot change" after the first push, not how WDT
# answers; the simulator refuses the trade with this message.
LINE_CHANGED_MESSAGE = "订单货品数量或价格不一致"
DUPLICATE_OID_MESSAGE = "订单货品数量不一致"  # shown at 递交 (docs/wdt-protocol.md#r-oid-unique)
REFUND_TRADE_MISSING = {  # docs/wdt-protocol.md#r-refund-trade
    EDITION_ENTERPRISE: (
        5040,
        "推送订单信息错误，错误内容：售后单关联的原始单不存在，要推送售后单，也就是 给到的tid 必须在旺店通系统中存在",
    ),
}
ULTIMATE_REFUND_TRADE_MISSING = "原始订单 {tid} 不存在,无法创建退款单"  # [?] no ultimate wording is published


@dataclass(frozen=True)
class SimulatorAccount:
    sid: str = "wdtdemo"
    appkey: str = "demo_app"
    appsecret: str = field(default="demosecret:demosalt", repr=False)
    shop_no: str = "mall01"
    warehouse_no: str = "wh01"


class NotFound(LookupError):
    pass


class SubmitFailed(ValueError):
    """递交 (or another step in the warehouse) fails, with WDT's message."""


def seed_data(account: SimulatorAccount) -> dict:
    return {
        "shops": {
            account.shop_no: {
                "shop_id": 1,
                "shop_no": account.shop_no,
                "shop_name": "自营商城",
                "platform_id": OWN_PLATFORM_ID,
                "sub_platform_id": 0,
                "is_disabled": False,
            },
            "tmall01": {
                "shop_id": 2,
                "shop_no": "tmall01",
                "shop_name": "天猫旗舰店",
                "platform_id": 1,
                "sub_platform_id": 0,
                "is_disabled": False,
            },
        },
        "warehouses": {
            account.warehouse_no: {
                "warehouse_id": 1,
                "warehouse_no": account.warehouse_no,
                "name": "主仓库",
                "type": 1,
                "is_disabled": False,
            },
            "wh02": {"warehouse_id": 2, "warehouse_no": "wh02", "name": "备用仓库", "type": 1, "is_disabled": False},
        },
        "logistics": [
            {
                "logistics_id": index + 1,
                "logistics_no": code,
                "logistics_name": name,
                "logistics_type": kind,
                "is_disabled": False,
                "is_support_cod": False,
            }
            for index, (code, (name, kind)) in enumerate(DEMO_LOGISTICS.items())
        ],
        "goods": {f"DEMO-{number:04d}": DEMO_STOCK for number in range(1, 201)},  # ERP 商家编码 -> sellable stock
        "trades": {},  # shop_no -> tid -> trade, its lines under "lines"
        "oids": {},  # oid -> the tid that first used it: oids are unique per sid, for ever
        "platform_goods": {},  # "shop_no\tgoods_id\tspec_id" -> platform goods row (goods.py)
        "refunds": {},  # refund_no -> refund
        "sync": {},  # rec_id -> logistics-sync record
        "violations": [],
        "next_rec_id": 1001,
        "next_goods_rec_id": 2001,
        "stock_seq": 0,
    }


def now() -> datetime:
    return datetime.now(SHANGHAI)


class SimulatorState:
    """All of the simulator's data behind one lock, optionally kept in a JSON file."""

    def __init__(self, account: SimulatorAccount, state_file: str | Path | None = None):
        self.account = account
        self.state_file = Path(state_file) if state_file else None
        self.lock = threading.RLock()
        if self.state_file and self.state_file.exists():
            self.data = json.loads(self.state_file.read_text("utf-8"))
        else:
            self.data = seed_data(account)
        self._index_pending()

    def _index_pending(self) -> None:
        """rec_ids of the records waiting for an ack, oldest first (a query must not scan every record ever made)."""
        self.pending = {
            rec_id: None
            for rec_id, record in sorted(self.data["sync"].items(), key=lambda i: int(i[0]))
            if record["status"] == "pending"
        }

    @contextmanager
    def changing(self):
        with self.lock:
            try:
                yield self.data
            finally:  # violations of a refused call are kept too
                if self.state_file:
                    self.state_file.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), "utf-8")

    def reset(self) -> None:
        with self.changing():
            self.data = seed_data(self.account)
            self._index_pending()

    def snapshot(self) -> dict:
        with self.lock:
            data = deepcopy(self.data)
        return {
            "trades": [trade for by_tid in data["trades"].values() for trade in by_tid.values()],
            "sync": list(data["sync"].values()),
            "goods": sorted(data["goods"]),
            "stock": data["goods"],
            "platform_goods": list(data["platform_goods"].values()),
            "refunds": list(data["refunds"].values()),
            "shops": list(data["shops"].values()),
            "warehouses": list(data["warehouses"].values()),
            "logistics": data["logistics"],
            "violations": data["violations"],
        }

    def record(self, problems: list[Problem], *, tid: str = "", key: str = "", edition: str = "") -> None:
        """Keep each broken rule in `violations` (inside `changing`)."""
        self.data["violations"] += [
            {
                "rule": problem.rule,
                "tid": tid,
                "key": key or tid,
                "detail": problem.message,
                "effect": problem.effect,
                "edition": edition,
                "at": wdt_time(now()),
            }
            for problem in problems
        ]

    def violation(self, rule: str, detail: str, **where: str) -> None:
        with self.changing():
            self.record([Problem(rule, detail)], **where)

    # --- lookups ---

    def shops(self, shop_no: str | None) -> list[dict]:
        with self.lock:
            return [deepcopy(shop) for no, shop in self.data["shops"].items() if shop_no in (None, "", no)]

    def warehouses(self, warehouse_no: str | None) -> list[dict]:
        with self.lock:
            return [deepcopy(house) for no, house in self.data["warehouses"].items() if warehouse_no in (None, "", no)]

    def logistics(self) -> list[dict]:
        with self.lock:
            return deepcopy(self.data["logistics"])

    def own_shop(self, shop_no: str) -> dict:
        shop = self.data["shops"].get(shop_no)
        if shop is None or shop["is_disabled"]:
            raise Refusal("店铺编号不存在或已停用")
        if shop["platform_id"] != OWN_PLATFORM_ID:
            raise Refusal("店铺平台不是自有平台")
        return shop

    # --- raw trades ---

    def push_trades(self, shop_no: str, trades: list[dict], edition: str, check_codes: bool, all_or_nothing: bool):
        """Check and store trades by (shop_no, tid). Returns (new_count, chg_count, [(tid, message)]) for the trades
        WDT refuses; with all_or_nothing one refused trade refuses the whole call and nothing is stored."""
        with self.changing() as data:
            self.own_shop(shop_no)
            known = data["trades"].setdefault(shop_no, {})
            oids = dict(data["oids"])  # what this call would claim, kept only if it is carried out
            checked = []
            for trade in trades:
                tid = str(trade.get("tid") or "")
                problems = trade_problems(edition, trade, trade["lines"], now())
                problems += self._held_problems(trade, known.get(tid), oids, check_codes)
                self.record(problems, tid=tid, edition=edition)
                refused = next((problem for problem in problems if problem.effect == REFUSED), None)
                if refused is None:
                    for line in trade["lines"]:
                        oids.setdefault(str(line.get("oid")), tid)
                checked.append((tid, trade, refused))
            errors = [(tid, refused.message) for tid, _, refused in checked if refused is not None]
            if errors and all_or_nothing:
                raise Refusal(errors[0][1])
            data["oids"] = oids
            new = changed = 0
            for tid, trade, refused in checked:
                if refused is None:
                    old = known.get(tid)
                    known[tid] = self._stored_trade(shop_no, trade, old)
                    new, changed = new + (old is None), changed + (old is not None)
            return new, changed, errors

    def _held_problems(self, trade: dict, old: dict | None, oids: dict[str, str], check_codes: bool) -> list[Problem]:
        """The rules that depend on what WDT holds already: oids, pushed lines, its goods."""
        tid, problems = str(trade.get("tid") or ""), []
        old_lines = {line["oid"]: line for line in (old or {}).get("lines", [])}
        seen: set[str] = set()
        for line in trade["lines"]:
            oid = str(line.get("oid") or "")
            if oid and (oids.get(oid, tid) != tid or oid in seen):
                problems.append(Problem("r-oid-unique", f"{DUPLICATE_OID_MESSAGE}{oid}", FAILS_AT_SUBMIT))
            seen.add(oid)
            before = old_lines.get(oid)
            if before and any(number(before.get(name)) != number(line.get(name)) for name in ("num", "price")):
                problems.append(Problem("r-line-frozen", f"{LINE_CHANGED_MESSAGE},原始单号为：{tid},子订单号为：{oid}"))
            code = line.get("spec_no") or line.get("goods_no")
            if UNKNOWN_CODE_REFUSED_AT_PUSH and check_codes and code not in self.data["goods"]:
                problems.append(Problem("r-unknown-code", f"原始单号 {tid} 的商家编码 {code} 在旺店通中不存在"))
        return problems

    @staticmethod
    def _stored_trade(shop_no: str, trade: dict, old: dict | None) -> dict:
        shipped = {line["oid"] for line in (old or {}).get("lines", []) if line["shipped"]}
        lines = [{**line, "shipped": line["oid"] in shipped} for line in trade["lines"]]
        return {
            **trade,
            "shop_no": shop_no,
            "lines": lines,
            "push_count": (old or {}).get("push_count", 0) + 1,
            "stage": (old or {}).get("stage", STAGES[0]),
            "bad_reason": (old or {}).get("bad_reason", ""),
            "pushed_at": wdt_time(now()),
        }

    def _find_trade(self, tid: str) -> dict:
        for by_tid in self.data["trades"].values():
            if tid in by_tid:
                return by_tid[tid]
        raise NotFound(f"no trade {tid}")

    def advance(self, tid: str) -> dict:
        """One step of 递交 → 打印 → 出库; shipping itself is `ship`. 递交 fails as WDT's does for a trade whose oids
        another trade holds; it makes the trade's platform goods; 出库 takes the goods out of stock."""
        with self.changing() as data:
            trade = self._find_trade(tid)
            if trade["stage"] not in STAGES[:-1]:
                raise ValueError(f"trade {tid} is {trade['stage']}: ship it (确认发货) instead")
            following = STAGES[STAGES.index(trade["stage"]) + 1]
            if following == SUBMITTED:
                oids = [line["oid"] for line in trade["lines"]]
                taken = next((oid for oid in oids if data["oids"].get(oid) != tid), None)
                if taken is not None or len(set(oids)) != len(oids):
                    trade["bad_reason"] = f"{DUPLICATE_OID_MESSAGE}{taken or tid}"
                    raise SubmitFailed(trade["bad_reason"])
                trade["bad_reason"] = ""
                goods.upsert_from_trade(data, trade)
            if following == SHIPPED_OUT:
                goods.take_out(data, trade)
            trade["stage"] = following
            return deepcopy(trade)

    def ship(self, tid: str, logistics_code: str, logistics_no: str, oids: list[str] | None = None) -> dict:
        """确认发货 of all unshipped lines or of `oids`: a new logistics-sync record waits for the mall."""
        with self.changing() as data:
            trade = self._find_trade(tid)
            company = next((c for c in data["logistics"] if c["logistics_no"] == logistics_code), None)
            if company is None or not logistics_no:
                raise ValueError("a known logistics_code and a logistics_no are needed")
            waiting = [line for line in trade["lines"] if not line["shipped"]]
            parcel = [line for line in waiting if oids is None or line["oid"] in oids]
            if not parcel or (oids is not None and len(parcel) != len(set(oids))):
                raise ValueError(f"nothing to ship among {oids} in trade {tid}")
            for line in parcel:
                line["shipped"] = True
            partial = len(parcel) < len(trade["lines"])
            trade["stage"] = PART_SHIPPED if any(not line["shipped"] for line in trade["lines"]) else SHIPPED
            rec_id = str(data["next_rec_id"])
            data["next_rec_id"] += 1
            record = {
                "rec_id": rec_id,
                "shop_no": trade["shop_no"],
                "tid": tid,
                "trade_id": 500000 + int(rec_id),
                "logistics_no": logistics_no,
                "logistics_code": company["logistics_no"],
                "logistics_name": company["logistics_name"],
                "logistics_type": company["logistics_type"],
                "oids": ",".join(line["oid"] for line in parcel) if partial else "",
                "is_part_sync": int(partial),
                "delivery_term": trade.get("delivery_term", 1),
                "consign_time": wdt_time(now()),
                "status": "pending",
                "message": "",
                "offered": 0,
            }
            data["sync"][rec_id] = record
            self.pending[rec_id] = None
            return deepcopy(record)

    def raw_trades(self, shop_no: str | None, tids: list[str] | None) -> list[dict]:
        """Raw trades as WDT's raw-trade queries show them: pending 递交 (process_status 10) included."""
        with self.lock:
            rows = [
                trade
                for no, by_tid in self.data["trades"].items()
                if shop_no in (None, "", no)
                for tid, trade in by_tid.items()
                if tids is None or tid in tids
            ]
            return [
                {
                    **deepcopy(trade),
                    "process_status": PROCESS_STATUS[trade["stage"]],
                    "platform_id": OWN_PLATFORM_ID,
                    "shop_id": self.data["shops"][trade["shop_no"]]["shop_id"],
                    "trade_orders": deepcopy(trade["lines"]),
                }
                for trade in rows
            ]

    # --- logistics sync ---

    def pending_sync(self, shop_no: str, limit: int, offset: int = 0) -> list[dict]:
        """The records still waiting for an ack, oldest first: offered again and again until acknowledged."""
        with self.changing() as data:
            self.own_shop(shop_no)
            waiting = (data["sync"][rec_id] for rec_id in self.pending)
            page = list(islice((r for r in waiting if r["shop_no"] == shop_no), offset, offset + limit))
            for record in page:
                record["offered"] += 1
            return deepcopy(page)

    def ack(self, acks: Iterable[tuple[str, bool | None, str]]) -> list[tuple[str, str]]:
        """(rec_id, ok — None to keep it pending —, message) -> [(rec_id, error)] for the acks not taken."""
        errors = []
        with self.changing() as data:
            for rec_id, ok, message in acks:
                record = data["sync"].get(rec_id)
                if record is None or record["status"] != "pending":
                    errors.append((rec_id, "非待同步状态,不可更新"))
                elif ok is not None:
                    record["status"], record["message"] = ("synced" if ok else "failed"), message
                    self.pending.pop(rec_id, None)
        return errors

    def reoffer(self, rec_id: str) -> dict:
        """As if the ack got lost: the record is offered again."""
        with self.changing() as data:
            if rec_id not in data["sync"]:
                raise NotFound(f"no sync record {rec_id}")
            data["sync"][rec_id]["status"] = "pending"
            self.pending[rec_id] = None
            return deepcopy(data["sync"][rec_id])

    # --- ERP goods, platform goods and stock (goods.py) ---

    def add_goods(self, codes: list[str]) -> list[str]:
        with self.changing() as data:
            for code in codes:
                data["goods"].setdefault(str(code), DEMO_STOCK)
            goods.rematch(data)
            return sorted(data["goods"])

    def set_stock(self, spec_no: str, quantity=None, delta=None) -> dict:
        """A 盘点 (`quantity`, the counted stock) or an 出库/入库 (`delta`) of one ERP spec; matched platform goods
        queue a stock change."""
        with self.changing() as data:
            if spec_no not in data["goods"]:
                raise NotFound(f"no ERP goods {spec_no}")
            if (quantity is None) == (delta is None):
                raise ValueError("give either quantity (盘点) or delta (出库 < 0, 入库 > 0)")
            change = number(quantity if quantity is not None else delta)
            if change is None or change != change.to_integral_value():
                raise ValueError("stock changes are whole numbers")
            stock = int(change) if quantity is not None else data["goods"][spec_no] + int(change)
            return {"spec_no": spec_no, "stock": stock, "queued": goods.set_stock(data, spec_no, stock)}

    def push_platform_goods(self, shop_no: str, lines: list[dict], edition: str, all_or_nothing: bool):
        """Check and store platform goods lines. Returns (new_count, chg_count, [(goods_id, spec_id, message)]) for
        the refused lines; with all_or_nothing one refused line refuses the call and nothing is stored."""
        record = ENTERPRISE_GOODS_LINE if edition == EDITION_ENTERPRISE else ULTIMATE_GOODS_LINE
        with self.changing() as data:
            self.own_shop(shop_no)
            checked = []
            for line in lines:
                problems = check_fields(record, line, edition) + goods.line_problems(
                    data, shop_no, line, lines, edition
                )
                self.record(problems, key=f"{line.get('goods_id')}:{line.get('spec_id')}", edition=edition)
                checked.append((line, next((problem for problem in problems if problem.effect == REFUSED), None)))
            errors = [
                (line.get("goods_id"), line.get("spec_id"), refused.message) for line, refused in checked if refused
            ]
            if errors and all_or_nothing:
                raise Refusal(errors[0][2])
            new = changed = 0
            for line, refused in checked:
                if refused is None:
                    created = goods.upsert(data, shop_no, line)
                    new, changed = new + created, changed + (not created)
            return new, changed, errors

    def platform_goods_ids(self, shop_no: str, lines: list[dict]) -> list[int]:
        with self.lock:
            rows = self.data["platform_goods"]
            return [rows[goods.row_key(shop_no, line.get("goods_id"), line.get("spec_id"))]["rec_id"] for line in lines]

    def stock_changes(self, shop_no: str, limit: int) -> list[dict]:
        with self.changing() as data:
            self.own_shop(shop_no)
            return goods.waiting(data, shop_no=shop_no)[:limit]

    def wait_list(self, count: int, position: int) -> tuple[list[int], int]:
        """Ultimate getSelfWaitSyncIdListOpen: rows of every self-built shop waiting for a sync, after `position`."""
        with self.lock:
            rows = [row for row in goods.waiting(self.data) if row["seq"] > position][:count]
            return [row["rec_id"] for row in rows], (rows[-1]["seq"] if rows else position)

    def calculated_stock(self, rec_id) -> dict:
        with self.lock:
            return goods.calculated(self.data, rec_id)

    def stock_synced(self, rec_id, stock, change_count, ok: bool, message: str = "") -> str | None:
        """A stock sync reported back: the row stops waiting when the change it reports is the latest. WDT's error
        text for a row it does not know."""
        with self.changing() as data:
            return goods.synced(data, rec_id, stock, change_count, ok, message)

    # --- refunds ---

    def push_refunds(self, shop_no: str, refunds: list[dict], edition: str) -> tuple[int, int]:
        """Each refund's trade must be in WDT already, or the whole call is refused; so is a refund breaking a field
        rule."""
        with self.changing() as data:
            self.own_shop(shop_no)
            trades = data["trades"].get(shop_no, {})
            refusal = None
            for refund in refunds:
                problems = self._refund_problems(refund, edition)
                self.record(
                    problems, tid=str(refund.get("tid") or ""), key=str(refund.get("refund_no") or ""), edition=edition
                )
                if refusal is None and problems:
                    refusal = Refusal(problems[0].message)
                if refusal is None and refund.get("tid") not in trades:
                    code, message = REFUND_TRADE_MISSING.get(edition, (100, ULTIMATE_REFUND_TRADE_MISSING))
                    message = message.format(tid=refund.get("tid"))
                    self.record([Problem("r-refund-trade", message)], tid=str(refund.get("tid")), edition=edition)
                    refusal = Refusal(message, code)
            if refusal is not None:
                raise refusal
            new = changed = 0
            for refund in refunds:
                old = data["refunds"].get(refund["refund_no"])
                data["refunds"][refund["refund_no"]] = {
                    **refund,
                    "shop_no": shop_no,
                    "push_count": (old or {}).get("push_count", 0) + 1,
                }
                new, changed = new + (old is None), changed + (old is not None)
            return new, changed

    @staticmethod
    def _refund_problems(refund: dict, edition: str) -> list[Problem]:
        if edition == EDITION_ENTERPRISE:
            problems = check_fields(ENTERPRISE_REFUND, {**refund, "order_list": refund["lines"]}, edition)
            return problems + [
                problem for line in refund["lines"] for problem in check_fields(ENTERPRISE_REFUND_LINE, line, edition)
            ]
        return [problem for row in refund["rows"] for problem in check_fields(ULTIMATE_REFUND, row, edition)]
