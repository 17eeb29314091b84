"""Platform goods (平台货品) in the fake WDT: rows keyed by shop + goods_id + spec_id, matched to the ERP's goods by
商家编码, and the stock-change queue that follows a matched row (docs/wdt-protocol.md#r-goods-matching,
#r-stock-queue). Functions of the state's data; the caller holds the state's lock."""

from __future__ import annotations

from copy import deepcopy

from ..wdt.editions import EDITION_ENTERPRISE
from ..wdt.payloads import OWN_PLATFORM_ID
from .rules import Problem, Refusal, blank, integer, number

ON_SHELF, DELETED = 1, 0
# What calcStock answers about a row that does not sync: not matched, deleted, or switched off (the doc's example).
NOT_SYNCING = "货品id:{goods_id}规格Id:{spec_id} 已停用或者未开启同步"
UNKNOWN_ROW = "单据不存在"  # [?] no wording is published for an unknown rec_id
# The strategy values calcStock answers with for a shop without a stock rule (the doc's own example)
NO_STOCK_RULE = {
    "stock_syn_rule_id": -10000,
    "stock_syn_rule_no": "",
    "stock_syn_warehouses": "1",
    "stock_syn_mask": 0,
    "stock_syn_percent": 100,
    "stock_syn_plus": 0,
    "stock_syn_min": 0,
    "stock_syn_max": 0,
    "is_auto_listing": False,
    "is_auto_delisting": False,
}


def row_key(shop_no: str, goods_id, spec_id) -> str:
    return "\t".join((shop_no, str(goods_id or ""), str(spec_id or "")))


def line_problems(data: dict, shop_no: str, line: dict, batch: list[dict], edition: str) -> list[Problem]:
    """Enterprise: a goods (SPU) with several specs needs every spec_id (r-goods-spec-id)."""
    if edition != EDITION_ENTERPRISE or not blank(line.get("spec_id")):
        return []
    goods_id = str(line.get("goods_id") or "")
    siblings = [other for other in batch if str(other.get("goods_id") or "") == goods_id]
    stored = [
        row
        for row in data["platform_goods"].values()
        if row["shop_no"] == shop_no and row["goods_id"] == goods_id and row["spec_id"]
    ]
    if len(siblings) > 1 or stored:
        return [Problem("r-goods-spec-id", "平台货品SPU下多个SKU，规格ID不能为空")]
    return []


def upsert(data: dict, shop_no: str, line: dict) -> bool:
    """Store a pushed line (an existing row is overwritten); True when the row is new."""
    key = row_key(shop_no, line.get("goods_id"), line.get("spec_id"))
    row = data["platform_goods"].get(key)
    created = row is None
    if created:
        row = data["platform_goods"][key] = {
            "rec_id": data["next_goods_rec_id"],
            "shop_no": shop_no,
            "shop_id": data["shops"][shop_no]["shop_id"],
            "goods_id": str(line.get("goods_id") or ""),
            "spec_id": str(line.get("spec_id") or ""),
            "match_code": "",
            "match_target_type": 0,
            "stock_change_count": 0,
            "sync_stock": 0,
            "waiting": False,
            "seq": 0,
            "last_syn_num": -1,
            "message": "",
        }
        _rec_ids(data)[str(row["rec_id"])] = key
        data["next_goods_rec_id"] += 1
    status = integer(line.get("status"))
    row.update(
        goods_no=str(line.get("goods_no") or ""),
        spec_no=str(line.get("spec_no") or ""),
        goods_name=str(line.get("goods_name") or ""),
        spec_name=str(line.get("spec_name") or ""),
        status=ON_SHELF if status is None else status,
        price=str(number(line.get("price")) or 0),
    )
    _match(data, row)
    return created


def upsert_from_trade(data: dict, trade: dict) -> None:
    """At 递交 WDT makes (or refreshes) the platform goods of a raw trade's lines and matches them."""
    for line in trade["lines"]:
        if not blank(line.get("goods_id")):
            upsert(data, trade["shop_no"], {**line, "status": ON_SHELF})


def rematch(data: dict) -> None:
    for row in data["platform_goods"].values():
        _match(data, row)


def _match(data: dict, row: dict) -> None:
    """Automatic matching by 商家编码: the spec's code, else the goods' code. A row newly matched to other goods
    queues a stock change (WDT: 匹配发生变化，需要重新库存同步)."""
    code = row["spec_no"] or row["goods_no"]
    matched = code in data["goods"] and row["status"] != DELETED
    if not matched:
        row.update(match_code="", match_target_type=0, waiting=False)
    elif row["match_code"] != code:
        row.update(match_code=code, match_target_type=1)
        _queue(data, row, data["goods"][code])


def _queue(data: dict, row: dict, stock: int) -> None:
    data["stock_seq"] += 1
    row.update(
        stock_change_count=row["stock_change_count"] + 1, sync_stock=max(stock, 0), waiting=True, seq=data["stock_seq"]
    )


def set_stock(data: dict, spec_no: str, stock: int) -> list[int]:
    """The ERP's stock of one spec changed: each matched row waits for a sync again; their rec_ids."""
    data["goods"][spec_no] = stock
    rows = [row for row in data["platform_goods"].values() if row["match_code"] == spec_no]
    for row in rows:
        _queue(data, row, stock)
    return [row["rec_id"] for row in rows]


def take_out(data: dict, trade: dict) -> None:
    """出库: the trade's goods leave the warehouse."""
    for line in trade["lines"]:
        code = line.get("spec_no") or line.get("goods_no")
        quantity = integer(line.get("num"))
        if code in data["goods"] and quantity:
            set_stock(data, code, data["goods"][code] - quantity)


def waiting(data: dict, shop_no: str | None = None) -> list[dict]:
    """Rows waiting for a stock sync, in the order they changed."""
    rows = [
        row
        for row in data["platform_goods"].values()
        if row["waiting"]
        and (shop_no is None or row["shop_no"] == shop_no)
        and data["shops"][row["shop_no"]]["platform_id"] == OWN_PLATFORM_ID
    ]
    return deepcopy(sorted(rows, key=lambda row: row["seq"]))


def _rec_ids(data: dict) -> dict[str, str]:
    """rec_id -> row key, as WDT finds a row by its primary key (a scan per acknowledged change made a drain of n
    changes take n × rows)."""
    if "platform_goods_by_rec_id" not in data:  # a state saved before the index existed
        data["platform_goods_by_rec_id"] = {str(row["rec_id"]): key for key, row in data["platform_goods"].items()}
    return data["platform_goods_by_rec_id"]


def _row(data: dict, rec_id) -> dict | None:
    key = _rec_ids(data).get(str(integer(rec_id)))
    return data["platform_goods"][key] if key is not None else None


def calculated(data: dict, rec_id) -> dict:
    """calcStock's answer for one row: the stock to sync and the strategy values syncSuccess wants back."""
    row = _row(data, rec_id)
    if row is None:
        raise Refusal(UNKNOWN_ROW)
    if row["match_target_type"] == 0 or row["status"] == DELETED:
        raise Refusal(NOT_SYNCING.format(goods_id=row["goods_id"], spec_id=row["spec_id"]))
    return {
        "rec_id": row["rec_id"],
        "shop_id": row["shop_id"],
        "platform_id": OWN_PLATFORM_ID,
        "sub_platform_id": 0,
        "goods_id": row["goods_id"],
        "spec_id": row["spec_id"],
        "outer_id": row["goods_no"],
        "spec_outer_id": row["spec_no"],
        "match_code": row["match_code"],
        "match_target_type": row["match_target_type"],
        "match_target_id": sorted(data["goods"]).index(row["match_code"]) + 1,
        "status": row["status"],
        "syn_stock": row["sync_stock"],
        "stock_num": row["sync_stock"],
        "stock_change_count": row["stock_change_count"],
        "last_syn_num": row["last_syn_num"],
        "last_syn_time": "",
        "list_time": "",
        "delist_time": "",
        "mask": 0,
        "reserve_s": "",
        **NO_STOCK_RULE,
    }


def synced(data: dict, rec_id, stock, change_count, ok: bool, message: str) -> str | None:
    """A sync reported back. The row stops waiting only for its latest change; an older change_count leaves it
    waiting (the stock moved again meanwhile). WDT's error text, or None."""
    row = _row(data, rec_id)
    if row is None:
        return UNKNOWN_ROW
    if not ok:
        row["message"] = message
        return None
    if integer(change_count) == row["stock_change_count"]:
        row.update(waiting=False, last_syn_num=integer(stock), message="")
    return None
