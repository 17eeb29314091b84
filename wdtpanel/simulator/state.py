"""What the fake WDT knows and the rules it applies, whatever edition's protocol carried the call."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..wdt.payloads import BEYOND_BMP, OWN_PLATFORM_ID, SHANGHAI, decimal_of, parse_wdt_time, wdt_time

STAGES = ["待递交", "已递交", "已打印", "已出库"]  # then 确认发货 (ship) makes it 已发货 or 部分发货
SHIPPED, PART_SHIPPED = "已发货", "部分发货"
# A trade_time later than WDT's clock is refused; allow what two NTP-synced clocks may differ by.
FUTURE_TOLERANCE = timedelta(minutes=5)
FREE_TEXT = ("buyer_nick", "receiver_name", "receiver_address", "buyer_message")
# (logistics_no, name, logistics_type per wdt-api.md §5)
DEMO_LOGISTICS = [("ZTO", "中通快递", 5), ("YTO", "圆通速递", 4), ("SF", "顺丰速运", 8), ("YD", "韵达快递", 9),
                  ("STO", "申通快递", 6), ("EMS", "EMS", 3), ("JD", "京东快递", 110), ("JT", "极兔速递", 108)]


@dataclass(frozen=True)
class SimulatorAccount:
    sid: str = "wdtdemo"
    appkey: str = "demo_app"
    appsecret: str = field(default="demosecret:demosalt", repr=False)
    shop_no: str = "mall01"
    warehouse_no: str = "wh01"


class Refusal(Exception):
    """WDT refuses the whole call: `code` is the enterprise code / ultimate status it answers with."""

    def __init__(self, message: str, code: int = 100):
        super().__init__(message)
        self.message, self.code = message, code


class NotFound(LookupError):
    pass


def seed_data(account: SimulatorAccount) -> dict:
    return {
        "shops": {
            account.shop_no: {"shop_id": 1, "shop_no": account.shop_no, "shop_name": "自营商城",
                              "platform_id": OWN_PLATFORM_ID, "sub_platform_id": 0, "is_disabled": False},
            "tmall01": {"shop_id": 2, "shop_no": "tmall01", "shop_name": "天猫旗舰店", "platform_id": 1,
                        "sub_platform_id": 0, "is_disabled": False},
        },
        "warehouses": {
            account.warehouse_no: {"warehouse_id": 1, "warehouse_no": account.warehouse_no, "name": "主仓库",
                                   "type": 1, "is_disabled": False},
            "wh02": {"warehouse_id": 2, "warehouse_no": "wh02", "name": "备用仓库", "type": 1, "is_disabled": False},
        },
        "logistics": [{"logistics_id": index + 1, "logistics_no": code, "logistics_name": name,
                       "logistics_type": kind, "is_disabled": False, "is_support_cod": False}
                      for index, (code, name, kind) in enumerate(DEMO_LOGISTICS)],
        "goods": [f"DEMO-{number:04d}" for number in range(1, 201)],  # merchant codes (商家编码) of ERP goods
        "trades": {},  # shop_no -> tid -> trade, its lines under "lines"
        "platform_goods": {},  # "shop_no\tgoods_id\tspec_id" -> line
        "refunds": {},  # refund_no -> refund
        "sync": {},  # rec_id -> logistics-sync record
        "next_rec_id": 1001,
    }


def _now() -> datetime:
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

    @contextmanager
    def changing(self):
        with self.lock:
            yield self.data
            if self.state_file:
                self.state_file.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), "utf-8")

    def reset(self) -> None:
        with self.changing():
            self.data = seed_data(self.account)

    def snapshot(self) -> dict:
        with self.lock:
            data = deepcopy(self.data)
        return {
            "trades": [trade for by_tid in data["trades"].values() for trade in by_tid.values()],
            "sync": list(data["sync"].values()),
            "goods": data["goods"],
            "platform_goods": list(data["platform_goods"].values()),
            "refunds": list(data["refunds"].values()),
            "shops": list(data["shops"].values()),
            "warehouses": list(data["warehouses"].values()),
            "logistics": data["logistics"],
        }

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

    def push_trades(self, shop_no: str, trades: list[dict], check_codes: bool, all_or_nothing: bool):
        """Store valid trades by (shop_no, tid). Returns (new_count, chg_count, [(tid, error)]); with
        all_or_nothing one bad trade refuses the whole call and nothing is stored."""
        with self.changing() as data:
            self.own_shop(shop_no)
            known = data["trades"].setdefault(shop_no, {})
            errors = [(trade.get("tid"), problem) for trade in trades
                      if (problem := self._trade_problem(trade, known.get(trade.get("tid")), check_codes))]
            if errors and all_or_nothing:
                raise Refusal(errors[0][1])
            refused = {tid for tid, _ in errors}
            new = changed = 0
            for trade in trades:
                if trade.get("tid") not in refused:
                    old = known.get(trade["tid"])
                    known[trade["tid"]] = self._stored_trade(shop_no, trade, old)
                    new, changed = new + (old is None), changed + (old is not None)
            return new, changed, errors

    def _trade_problem(self, trade: dict, old: dict | None, check_codes: bool) -> str | None:
        tid = trade.get("tid")
        if not tid:
            return "原始单号 tid 不能为空"
        trade_time = parse_wdt_time(trade.get("trade_time"))
        if trade_time is None or trade_time > _now() + FUTURE_TOLERANCE:
            return f"下单时间非法,原始单号为：{tid}"
        if any(BEYOND_BMP.search(str(trade.get(name) or "")) for name in FREE_TEXT):
            return f"昵称/收件人姓名/收件人地址/买家留言包含非法字符或为空,原始单号为：{tid}"
        lines = trade["lines"]
        if "order_count" in trade and int(trade["order_count"]) != len(lines):
            return f"order_count 与子单个数不符,原始单号为：{tid}"
        old_lines = {line["oid"]: line for line in (old or {}).get("lines", [])}
        for line in lines:
            if not line.get("oid"):
                return f"子订单号 oid 不能为空,原始单号为：{tid}"
            before = old_lines.get(line["oid"])
            if before and any(decimal_of(before[name]) != decimal_of(line.get(name)) for name in ("num", "price")):
                return f"订单货品数量或价格不一致,原始单号为：{tid},子订单号为：{line.get('oid')}"
            if check_codes and line.get("spec_no") not in self.data["goods"]:
                return f"原始单号 {tid} 的商家编码 {line.get('spec_no')} 在旺店通中不存在"
        return None

    @staticmethod
    def _stored_trade(shop_no: str, trade: dict, old: dict | None) -> dict:
        shipped = {line["oid"] for line in (old or {}).get("lines", []) if line["shipped"]}
        lines = [{**line, "shipped": line["oid"] in shipped} for line in trade["lines"]]
        return {**trade, "shop_no": shop_no, "lines": lines, "push_count": (old or {}).get("push_count", 0) + 1,
                "stage": (old or {}).get("stage", STAGES[0]), "pushed_at": wdt_time(_now())}

    def _find_trade(self, tid: str) -> dict:
        for by_tid in self.data["trades"].values():
            if tid in by_tid:
                return by_tid[tid]
        raise NotFound(f"no trade {tid}")

    def advance(self, tid: str) -> dict:
        """One step of 递交 → 打印 → 出库; shipping itself is `ship`."""
        with self.changing():
            trade = self._find_trade(tid)
            if trade["stage"] not in STAGES[:-1]:
                raise ValueError(f"trade {tid} is {trade['stage']}: ship it (确认发货) instead")
            trade["stage"] = STAGES[STAGES.index(trade["stage"]) + 1]
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
                "rec_id": rec_id, "shop_no": trade["shop_no"], "tid": tid, "trade_id": 500000 + int(rec_id),
                "logistics_no": logistics_no, "logistics_code": company["logistics_no"],
                "logistics_name": company["logistics_name"], "logistics_type": company["logistics_type"],
                "oids": ",".join(line["oid"] for line in parcel) if partial else "", "is_part_sync": int(partial),
                "delivery_term": trade.get("delivery_term", 1), "consign_time": wdt_time(_now()),
                "status": "pending", "message": "", "offered": 0,
            }
            data["sync"][rec_id] = record
            return deepcopy(record)

    # --- logistics sync ---

    def pending_sync(self, shop_no: str, limit: int, offset: int = 0) -> list[dict]:
        """The records still waiting for an ack, oldest first: offered again and again until acknowledged."""
        with self.changing() as data:
            self.own_shop(shop_no)
            records = [r for r in data["sync"].values() if r["shop_no"] == shop_no and r["status"] == "pending"]
            page = records[offset:offset + limit]
            for record in page:
                record["offered"] += 1
            return deepcopy(page)

    def ack(self, acks: list[tuple[str, bool | None, str]]) -> list[tuple[str, str]]:
        """(rec_id, ok — None to keep it pending —, message) -> [(rec_id, error)] for the acks not taken."""
        errors = []
        with self.changing() as data:
            for rec_id, ok, message in acks:
                record = data["sync"].get(rec_id)
                if record is None or record["status"] != "pending":
                    errors.append((rec_id, "非待同步状态,不可更新"))
                elif ok is not None:
                    record["status"], record["message"] = ("synced" if ok else "failed"), message
        return errors

    def reoffer(self, rec_id: str) -> dict:
        """As if the ack got lost: the record is offered again."""
        with self.changing() as data:
            if rec_id not in data["sync"]:
                raise NotFound(f"no sync record {rec_id}")
            data["sync"][rec_id]["status"] = "pending"
            return deepcopy(data["sync"][rec_id])

    # --- goods and refunds ---

    def add_goods(self, codes: list[str]) -> list[str]:
        with self.changing() as data:
            data["goods"] = sorted(set(data["goods"]) | {str(code) for code in codes})
            return list(data["goods"])

    def push_platform_goods(self, shop_no: str, lines: list[dict], all_or_nothing: bool):
        """Returns (new_count, chg_count, [(goods_id, spec_id, error)]); rows are keyed by shop + goods_id + spec_id."""
        with self.changing() as data:
            self.own_shop(shop_no)
            errors = [(line.get("goods_id"), line.get("spec_id"), "goods_id 不能为空")
                      for line in lines if not line.get("goods_id")]
            if errors and all_or_nothing:
                raise Refusal(errors[0][2])
            new = changed = 0
            for line in lines:
                if line.get("goods_id"):
                    key = "\t".join((shop_no, str(line["goods_id"]), str(line.get("spec_id") or "")))
                    new, changed = new + (key not in data["platform_goods"]), changed + (key in data["platform_goods"])
                    data["platform_goods"][key] = {**line, "shop_no": shop_no}
            return new, changed, errors

    def push_refunds(self, shop_no: str, refunds: list[dict]) -> tuple[int, int]:
        """Each refund's trade must be in WDT already, or the whole call is refused."""
        with self.changing() as data:
            self.own_shop(shop_no)
            trades = data["trades"].get(shop_no, {})
            missing = next((refund["tid"] for refund in refunds if refund.get("tid") not in trades), None)
            if missing is not None:
                raise Refusal(f"原始订单 {missing} 不存在,无法创建退款单")
            new = changed = 0
            for refund in refunds:
                old = data["refunds"].get(refund["refund_no"])
                data["refunds"][refund["refund_no"]] = {**refund, "shop_no": shop_no,
                                                        "push_count": (old or {}).get("push_count", 0) + 1}
                new, changed = new + (old is None), changed + (old is not None)
            return new, changed
