"""WdtClient: what the rest of wdtpanel asks of WDT, in either edition, batched and with errors per item."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

import requests

from . import editions, payloads
from .editions import BATCH_LIMITS, EDITION_ENTERPRISE, ENTERPRISE_SAME_BUYER_PER_CALL
from .errors import WdtError, WdtUnsupported, wdt_error
from .payloads import OWN_PLATFORM_ID, CheckItem, ConnectionReport, flag, id_text, logistics_company, plain_text
from .wire import WIRES, ItemErrors, WdtAccount

MAX_SYNC_LIMIT = 100
Item = TypeVar("Item")


class WdtClient:
    """One WDT account, one HTTP session (its connection pool). Use it as a context manager or close() it.

    `before_call(name)` runs before every HTTP request with the WDT script or method name (a rate limiter, a lease
    renewal); an exception from it stops the call. `sleep` waits out WDT's rate-limit refusals."""

    def __init__(
        self,
        account: WdtAccount,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        before_call: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.account = account
        self.limits = BATCH_LIMITS[account.edition]
        self.session = session or requests.Session()
        self.owns_session = session is None
        self.wire = WIRES[account.edition](
            account, self.session, (connect_timeout, read_timeout), clock, before_call, sleep
        )

    def close(self) -> None:
        if self.owns_session:
            self.session.close()

    def __enter__(self) -> WdtClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def push_trades(
        self, shop_no: str, trades: list[payloads.RawTrade], *, strict: bool = True
    ) -> dict[str, WdtError | None]:
        """tid -> None (accepted) or why WDT refused that trade. Failures of the call itself are raised."""
        buyers = (lambda trade: plain_text(trade.buyer_nick)) if self.account.edition == EDITION_ENTERPRISE else None
        return self._in_batches(
            _batches(trades, self.limits.trades, buyers, ENTERPRISE_SAME_BUYER_PER_CALL),
            lambda batch: self.wire.push_trades(shop_no, batch, strict),
            lambda trade: trade.tid,
            lambda trade: [trade.tid, *(line.oid for line in trade.lines)],
        )

    def find_raw_trades(self, shop_no: str, tids: list[str]) -> dict[str, bool]:
        """tid -> does WDT hold this raw trade of `shop_no`? Asked when a push's answer was lost, before the order is
        called failed. Enterprise: raises WdtUnsupported unless the paid raw-trade query is switched on
        (editions.ENTERPRISE_RAW_TRADE_QUERY)."""
        if self.account.edition == EDITION_ENTERPRISE and not editions.ENTERPRISE_RAW_TRADE_QUERY:
            raise WdtUnsupported("原始订单查询 vip_api_trade_query.php（增值服务）")
        wanted = list(dict.fromkeys(tids))
        found: set[str] = set()
        for batch in _batches(wanted, self.limits.raw_trade_query):
            found |= self.wire.raw_trades(shop_no, list(batch))
        return {tid: tid in found for tid in wanted}

    def query_logistics_sync(self, shop_no: str, limit: int = MAX_SYNC_LIMIT) -> list[payloads.LogisticsRecord]:
        """Shipments waiting to be acknowledged (WDT offers them again until they are)."""
        return self.wire.logistics_sync(shop_no, max(1, min(limit, MAX_SYNC_LIMIT)))

    def ack_logistics_sync(self, acks: list[payloads.LogisticsAck]) -> dict[str, str | None]:
        """rec_id -> None or WDT's reason for not taking the ack."""
        results: dict[str, str | None] = {}
        for batch in _batches(acks, self.limits.acks):
            results.update(self.wire.ack(batch))
        return results

    def query_stock_changes(self, shop_no: str, limit: int) -> list[payloads.StockChange]:
        """Platform goods of `shop_no` whose stock changed in WDT, offered again until acknowledged. `limit` is brought
        into the edition's range (enterprise 100..2000, ultimate 10..5000)."""
        least, most = self.limits.stock_query
        return self.wire.stock_changes(shop_no, max(least, min(limit, most)))

    def ack_stock_changes(self, acks: list[payloads.StockAck]) -> dict[str, str | None]:
        """rec_id -> None or WDT's reason for not taking the ack. A change acknowledged with an older change_count
        than WDT's stays waiting; enterprise sends no failures (they are simply offered again)."""
        results: dict[str, str | None] = {}
        for batch in _batches(acks, self.limits.stock_acks):
            results.update(self.wire.stock_ack(list(batch)))
        return results

    def push_goods(
        self, shop_no: str, lines: list[payloads.PlatformGoodsLine]
    ) -> dict[tuple[str, str], WdtError | None]:
        """(goods_id, spec_id) -> None or why WDT refused that line. WDT matches pushed lines to its goods by
        商家编码; an unknown code is not refused (the line stays unmatched, docs/wdt-protocol.md#r-goods-matching)."""
        return self._in_batches(
            _batches(lines, self.limits.goods),
            lambda batch: self.wire.push_goods(shop_no, batch),
            lambda line: (line.goods_id, line.spec_id),
            lambda line: [line.goods_id, line.spec_id],
        )

    def push_refunds(self, shop_no: str, refunds: list[payloads.RawRefund]) -> dict[str, str | None]:
        """refund_no -> None or WDT's reason for refusing that refund (its trade must be in WDT already)."""
        results = self._in_batches(
            _batches(refunds, self.limits.refunds),
            lambda batch: self.wire.push_refunds(shop_no, batch),
            lambda refund: refund.refund_no,
            lambda refund: [refund.refund_no, refund.tid],
        )
        return {key: _text(error) for key, error in results.items()}

    def get_shop(self, shop_no: str) -> dict | None:
        return _find(lambda: self.wire.shops(shop_no), "shop_no", shop_no, "unknown_shop")

    def get_warehouse(self, warehouse_no: str) -> dict | None:
        return _find(lambda: self.wire.warehouses(warehouse_no), "warehouse_no", warehouse_no, "unknown_warehouse")

    def list_logistics(self) -> list[payloads.LogisticsCompany]:
        return [logistics_company(raw) for raw in self.wire.logistics_companies()]

    def check_connection(self, shop_no: str, warehouse_no: str) -> ConnectionReport:
        """Sign real calls: are the credentials taken, does the shop exist as a self-built shop, the warehouse?"""
        try:
            logistics = self.list_logistics()
        except WdtError as error:
            skipped = CheckItem(False, "not_checked")
            return ConnectionReport(_failed(error), skipped, skipped, [])
        credentials = CheckItem(True, "credentials_ok")
        shop = _check(lambda: self.get_shop(shop_no), "unknown_shop", {"shop_no": shop_no}, _shop_item)
        warehouse = _check(
            lambda: self.get_warehouse(warehouse_no),
            "unknown_warehouse",
            {"warehouse_no": warehouse_no},
            _warehouse_item,
        )
        return ConnectionReport(credentials, shop, warehouse, logistics)

    def _in_batches(
        self,
        batches: Iterable[list[Item]],
        send: Callable[[list[Item]], ItemErrors],
        key: Callable[[Item], Hashable],
        names: Callable[[Item], list[str]],
    ) -> dict:
        """Every batch's answers; when a call fails part way, the error carries the answers already given (WDT
        holds what those calls accepted)."""
        results: dict = {}
        try:
            for batch in batches:
                _narrowed(batch, send, key, names, results)
        except WdtError as error:
            error.partial_results = results
            raise
        return results


def _narrowed(
    batch: list[Item],
    send: Callable[[list[Item]], ItemErrors],
    key: Callable[[Item], Hashable],
    names: Callable[[Item], list[str]],
    results: dict,
) -> None:
    """Send a batch. When WDT refuses the whole call because of some item, find it so the others still get in:
    items the refusal names are set aside and the rest is sent again; a refusal the classifier knows to be about one
    item (but naming none) halves the group; any other refusal is the answer for the whole group. Account-level and
    transient failures are raised. At most 2 × len(batch) calls (docs/wdt-protocol.md#pacing). Answers go into
    `results` as they come."""
    groups, budget, last = [list(batch)], 2 * len(batch), None
    while groups:
        group = groups.pop(0)
        if budget == 0:  # only after a refusal: groups are added by refusals
            results.update({key(item): last for item in group})
            continue
        budget -= 1
        try:
            results.update(send(group))
            continue
        except WdtError as error:
            if not error.item_level:
                raise
            last = error
        named = {id(item) for item in group if _names_any(last.wdt_message, names(item))}
        if named and len(named) < len(group):
            results.update({key(item): last for item in group if id(item) in named})
            groups.append([item for item in group if id(item) not in named])
        elif last.code != "business" and not named and len(group) > 1:
            middle = len(group) // 2
            groups += [group[:middle], group[middle:]]
        else:
            results.update({key(item): last for item in group})


def _names_any(message: str, names: list[str]) -> bool:
    """Does WDT's message name one of these ids as a whole word (not inside a longer id)?"""
    return any(name and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message, re.ASCII) for name in names)


def _batches(
    items: list[Item], size: int, group: Callable[[Item], Hashable] | None = None, per_group: int = 0
) -> list[list[Item]]:
    """Consecutive batches of at most `size` items, and at most `per_group` items of one `group` in a batch."""
    if group is None:
        return [items[start : start + size] for start in range(0, len(items), size)]
    batches: list[list[Item]] = []
    counts: Counter = Counter()
    for item in items:
        if not batches or len(batches[-1]) == size or counts[group(item)] == per_group:
            batches.append([])
            counts.clear()
        batches[-1].append(item)
        counts[group(item)] += 1
    return batches


def _text(error: WdtError | None) -> str | None:
    return None if error is None else error.wdt_message or str(error)


def _failed(error: WdtError) -> CheckItem:
    return CheckItem(False, error.code, error.params)


def _check(
    find: Callable[[], dict | None], missing_code: str, context: dict[str, str], describe: Callable[[dict], CheckItem]
) -> CheckItem:
    try:
        row = find()
    except WdtError as error:
        return _failed(error)
    if row is None or flag(row.get("is_disabled")):
        return _failed(wdt_error(missing_code, **context))
    return describe(row)


def _shop_item(shop: dict) -> CheckItem:
    shop_no, name = id_text(shop.get("shop_no")), id_text(shop.get("shop_name"))
    if id_text(shop.get("platform_id")) != str(OWN_PLATFORM_ID):
        return _failed(wdt_error("shop_not_own_platform", shop_no=shop_no))
    return CheckItem(True, "shop_ok", {"shop_no": shop_no, "shop_name": name})


def _warehouse_item(warehouse: dict) -> CheckItem:
    warehouse_no, name = id_text(warehouse.get("warehouse_no")), id_text(warehouse.get("name"))
    return CheckItem(True, "warehouse_ok", {"warehouse_no": warehouse_no, "warehouse_name": name})


def _find(fetch: Callable[[], list[dict]], key: str, value: str, missing_code: str) -> dict | None:
    try:
        rows = fetch()
    except WdtError as error:
        if error.code == missing_code:
            return None
        raise
    return next((row for row in rows if id_text(row.get(key)) == value), None)
