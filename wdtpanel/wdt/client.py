"""WdtClient: what the rest of wdtpanel asks of WDT, in either edition, batched and with errors per item."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import requests

from .editions import BATCH_LIMITS
from .errors import WdtError, WdtUnsupported, wdt_error
from .payloads import (
    OWN_PLATFORM_ID, CheckItem, ConnectionReport, LogisticsAck, LogisticsCompany, LogisticsRecord, PlatformGoodsLine,
    RawRefund, RawTrade, flag, id_text, logistics_company,
)
from .wire import WIRES, ItemErrors, WdtAccount

MAX_SYNC_LIMIT = 100
Item = TypeVar("Item")


class WdtClient:
    """One WDT account, one HTTP session (its connection pool). Use it as a context manager or close() it."""

    def __init__(self, account: WdtAccount, *, session: requests.Session | None = None, connect_timeout: float = 5.0,
                 read_timeout: float = 30.0, clock: Callable[[], float] = time.time,
                 before_call: Callable[[str], None] | None = None):
        self.account = account
        self.limits = BATCH_LIMITS[account.edition]
        self.session = session or requests.Session()
        self.owns_session = session is None
        self.wire = WIRES[account.edition](account, self.session, (connect_timeout, read_timeout), clock)
        self.wire.before_call = before_call

    def close(self) -> None:
        if self.owns_session:
            self.session.close()

    def __enter__(self) -> WdtClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def push_trades(self, shop_no: str, trades: list[RawTrade], *, strict: bool = True) -> dict[str, WdtError | None]:
        """tid -> None (accepted) or why WDT refused that trade. Failures of the call itself are raised."""
        return self._in_batches(trades, self.limits.trades, lambda batch: self.wire.push_trades(shop_no, batch, strict),
                                lambda trade: trade.tid)

    def find_raw_trades(self, shop_no: str, tids: list[str]) -> dict[str, bool]:
        """tid -> whether WDT holds the raw trade. Not offered yet in either edition (docs/wdt-protocol.md)."""
        raise WdtUnsupported(self.account.edition)

    def query_logistics_sync(self, shop_no: str, limit: int = MAX_SYNC_LIMIT) -> list[LogisticsRecord]:
        """Shipments waiting to be acknowledged (WDT offers them again until they are)."""
        return self.wire.logistics_sync(shop_no, max(1, min(limit, MAX_SYNC_LIMIT)))

    def ack_logistics_sync(self, acks: list[LogisticsAck]) -> dict[str, str | None]:
        """rec_id -> None or WDT's reason for not taking the ack."""
        results: dict[str, str | None] = {}
        for batch in _chunks(acks, self.limits.acks):
            results.update(self.wire.ack(batch))
        return results

    def push_goods(self, shop_no: str, lines: list[PlatformGoodsLine]) -> dict[tuple[str, str], str | None]:
        """(goods_id, spec_id) -> None or WDT's reason for refusing that line."""
        results = self._in_batches(lines, self.limits.goods, lambda batch: self.wire.push_goods(shop_no, batch),
                                   lambda line: (line.goods_id, line.spec_id))
        return {key: _text(error) for key, error in results.items()}

    def push_refunds(self, shop_no: str, refunds: list[RawRefund]) -> dict[str, str | None]:
        """refund_no -> None or WDT's reason for refusing that refund (its trade must be in WDT already)."""
        results = self._in_batches(refunds, self.limits.refunds, lambda batch: self.wire.push_refunds(shop_no, batch),
                                   lambda refund: refund.refund_no)
        return {key: _text(error) for key, error in results.items()}

    def get_shop(self, shop_no: str) -> dict | None:
        return _find(lambda: self.wire.shops(shop_no), "shop_no", shop_no, "unknown_shop")

    def get_warehouse(self, warehouse_no: str) -> dict | None:
        return _find(lambda: self.wire.warehouses(warehouse_no), "warehouse_no", warehouse_no, "unknown_warehouse")

    def list_logistics(self) -> list[LogisticsCompany]:
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
        warehouse = _check(lambda: self.get_warehouse(warehouse_no), "unknown_warehouse",
                           {"warehouse_no": warehouse_no}, _warehouse_item)
        return ConnectionReport(credentials, shop, warehouse, logistics)

    def _in_batches(self, items: Sequence[Item], size: int, send: Callable[[Sequence[Item]], ItemErrors],
                    key: Callable[[Item], Hashable]) -> dict:
        results: dict = {}
        for batch in _chunks(items, size):
            results.update(self._narrowed(batch, send, key))
        return results

    def _narrowed(self, items: Sequence[Item], send: Callable[[Sequence[Item]], ItemErrors],
                  key: Callable[[Item], Hashable]) -> dict:
        """Send items; when WDT refuses the whole call because of some item, halve the batch until the refused
        items stand alone, so the others still get in. Account-level and transient failures are raised."""
        try:
            return send(items)
        except WdtError as error:
            if not error.item_level:
                raise
            if len(items) == 1:
                return {key(items[0]): error}
        middle = len(items) // 2
        return {**self._narrowed(items[:middle], send, key), **self._narrowed(items[middle:], send, key)}


def _chunks(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _text(error: WdtError | None) -> str | None:
    return None if error is None else error.wdt_message or str(error)


def _failed(error: WdtError) -> CheckItem:
    return CheckItem(False, error.code, error.params)


def _check(find: Callable[[], dict | None], missing_code: str, context: dict[str, str],
           describe: Callable[[dict], CheckItem]) -> CheckItem:
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
