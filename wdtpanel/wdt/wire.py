"""One WDT call per method, in each edition's own protocol: sign, post, read the envelope, raise WdtError.
A refusal for calling too often is waited out a few times before it is raised (docs/wdt-protocol.md#pacing)."""

from __future__ import annotations

import logging
import math
import re
import string
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlsplit

import requests

from .editions import EDITION_ENTERPRISE, EDITION_ULTIMATE, ENTERPRISE_SWITCH
from .errors import WdtError, error_from_answer, wdt_error
from .payloads import (
    OWN_PLATFORM_ID,
    LogisticsAck,
    LogisticsRecord,
    PlatformGoodsLine,
    RawRefund,
    RawTrade,
    StockAck,
    StockChange,
    compact_json,
    enterprise_ack,
    enterprise_record,
    enterprise_refund,
    enterprise_stock_ack,
    enterprise_stock_change,
    enterprise_trade,
    goods_line,
    id_text,
    ultimate_ack,
    ultimate_record,
    ultimate_refund_rows,
    ultimate_stock_change,
    ultimate_stock_info,
    ultimate_trade,
)
from .signing import enterprise_sign, split_ultimate_secret, ultimate_sign, ultimate_timestamp

PAGE_SIZE = 100
ItemErrors = dict[object, "WdtError | None"]  # item key (tid, refund_no, ...) -> its refusal
# Seconds to wait before each new try of a call WDT refused for calling too often; then the refusal is raised
# (transient: the job is retried later). WDT's doc advises resting the interface; SDKs retry after seconds.
RATE_LIMIT_BACKOFF = (2.0, 5.0, 10.0, 20.0)


@dataclass(frozen=True)
class WdtAccount:
    edition: str
    base_url: str
    sid: str
    appkey: str
    appsecret: str = field(repr=False)


log = logging.getLogger(__name__)

# application/x-www-form-urlencoded as urllib's urlencode writes it, without its per-byte Python loop: an ASCII
# value (every JSON parameter: compact_json escapes all else) gets one str.replace per unsafe character it holds.
# "%" goes first and "+" second, so no escape written is escaped again.
_FORM_SAFE = frozenset(string.ascii_letters + string.digits + "_.-~")
_FORM_ESCAPES = [("%", "%25"), ("+", "%2B")] + [
    (chr(code), "+" if code == 32 else f"%{code:02X}")
    for code in range(128)
    if chr(code) not in _FORM_SAFE and chr(code) not in "%+"
]


def _form_escaped(value: str) -> str:
    if not value.isascii():
        return quote_plus(value)
    for character, escape in _FORM_ESCAPES:
        if character in value:
            value = value.replace(character, escape)
    return value


def form_body(form: dict[str, str]) -> str:
    return "&".join(f"{quote_plus(key)}={_form_escaped(value)}" for key, value in form.items())


_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _finite_float(text: str) -> float | str:
    """A JSON number as a float, unless no float holds it (1e999): then its text, as NaN and Infinity stay text,
    so what WDT sent can be kept as JSON and read as a Decimal (and refused there)."""
    value = float(text)
    return value if math.isfinite(value) else text


def _whole_characters(value: Any) -> Any:
    """WDT's JSON may escape half of a character (a lone \\ud800), which no text column or encoder takes: it becomes
    U+FFFD, so every text of the answer can be stored and sent on. (A whole pair was joined by the JSON decoder.)"""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_whole_characters(key): _whole_characters(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_characters(item) for item in value]
    return value


BIGINT_MAX = 2**63 - 1


def _whole_id(value) -> str | None:
    """A WDT id that is a whole number its bigint holds, as its digits without leading zeros; else None."""
    text = id_text(value)
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 19:
        return None
    number = int(text)
    return str(number) if number <= BIGINT_MAX else None


def _list_of(value) -> list:
    """A list WDT answered, or none when it answered something else."""
    return value if isinstance(value, list) else []


class Wire(ABC):
    """What both editions share: the HTTP post and the failures below WDT's envelope. Each edition implements
    `send` (one request in its protocol) and the calls declared below (WDT's methods and shapes of that edition)."""

    edition: str

    def __init__(
        self,
        account: WdtAccount,
        session: requests.Session,
        timeouts: tuple[float, float],
        clock: Callable[[], float],
        before_call: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = lambda seconds: None,
    ):
        self.account, self.session, self.timeouts, self.clock = account, session, timeouts, clock
        self.before_call, self.sleep = before_call, sleep
        self.host = urlsplit(account.base_url).netloc or account.base_url

    def call(self, name: str, *args, **kwargs) -> dict:
        """One WDT call (script or method `name`); `before_call` hears of every HTTP request it makes."""
        for delay in RATE_LIMIT_BACKOFF:
            try:
                return self._call_once(name, *args, **kwargs)
            except WdtError as error:
                if error.code != "rate_limited":
                    raise
            self.sleep(delay)
        return self._call_once(name, *args, **kwargs)

    def _call_once(self, name: str, *args, **kwargs) -> dict:
        if self.before_call is not None:
            self.before_call(name)
        return self.send(name, *args, **kwargs)  # each edition's own request

    @abstractmethod
    def send(self, *args: Any, **kwargs: Any) -> dict:
        """One signed request for a script or method, with the edition's own arguments; the checked answer."""

    @abstractmethod
    def push_trades(self, shop_no: str, trades: list[RawTrade], strict: bool) -> ItemErrors: ...

    @abstractmethod
    def logistics_sync(self, shop_no: str, limit: int) -> list[LogisticsRecord]: ...

    @abstractmethod
    def ack(self, acks: list[LogisticsAck]) -> dict[str, str | None]: ...

    @abstractmethod
    def push_goods(self, shop_no: str, lines: list[PlatformGoodsLine]) -> ItemErrors: ...

    @abstractmethod
    def push_refunds(self, shop_no: str, refunds: list[RawRefund]) -> ItemErrors: ...

    @abstractmethod
    def shops(self, shop_no: str) -> list[dict]: ...

    @abstractmethod
    def warehouses(self, warehouse_no: str) -> list[dict]: ...

    @abstractmethod
    def logistics_companies(self) -> list[dict]: ...

    @abstractmethod
    def raw_trades(self, shop_no: str, tids: list[str]) -> set[str]: ...

    @abstractmethod
    def stock_changes(self, shop_no: str, limit: int) -> list[StockChange]: ...

    @abstractmethod
    def stock_ack(self, acks: list[StockAck]) -> dict[str, str | None]: ...

    def post(self, url: str, **request) -> dict:
        # Failures keep no link to the requests exception: its text holds the URL, and with it the signed query.
        try:
            response = self.session.post(url, timeout=self.timeouts, **request)
        except requests.ReadTimeout:
            raise wdt_error("timeout", host=self.host) from None
        except requests.RequestException as exc:
            raise wdt_error("network", wdt_message=type(exc).__name__, host=self.host) from None
        status = f"HTTP {response.status_code}"
        if response.status_code == 429:
            raise wdt_error("rate_limited", wdt_message=status)
        if response.status_code >= 500:
            raise wdt_error("http_5xx", wdt_message=status)
        if response.status_code != 200:
            raise wdt_error("bad_response", wdt_message=status)
        try:
            answer = response.json(parse_constant=str, parse_float=_finite_float)
        except ValueError:
            answer = None
        if _ESCAPED_SURROGATE.search(response.content):
            answer = _whole_characters(answer)
        if not isinstance(answer, dict):  # its text is not shown: an address may answer what no merchant should read
            kind = response.headers.get("Content-Type", "no content type").split(";")[0][:40]
            raise wdt_error(
                "bad_response", wdt_message=f"{status}, not a JSON object ({kind}, {len(response.content)} bytes)"
            )
        return answer

    def check(self, code, answer: dict, context: dict) -> None:
        if code is None:
            raise wdt_error("bad_response", wdt_message="an answer without a status")
        if str(code).strip() != "0":
            raise error_from_answer(self.edition, str(code).strip(), id_text(answer.get("message")), **context)

    def item_error(self, message, context: dict) -> WdtError:
        return error_from_answer(self.edition, None, id_text(message), **context)


class EnterpriseWire(Wire):
    """openapi2: one PHP script per call, a signed form; JSON-valued fields are JSON text."""

    edition = EDITION_ENTERPRISE

    def send(self, script: str, params: dict, **context: str) -> dict:
        form = {"sid": self.account.sid, "appkey": self.account.appkey, "timestamp": str(int(self.clock()))}
        for key, value in params.items():
            if value not in (None, ""):  # empty params are left out: sign exactly what is sent
                form[key] = value if isinstance(value, str) else compact_json(value)
        form["sign"] = enterprise_sign(form, self.account.appsecret)
        answer = self.post(
            f"{self.account.base_url}{script}.php",
            data=form_body(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.check(answer.get("code"), answer, context)
        return answer

    def push_trades(self, shop_no: str, trades: list[RawTrade], strict: bool) -> ItemErrors:
        # No per-trade errors are documented: the call stands or falls as a whole.
        self.call(
            "trade_push",
            {
                "shop_no": shop_no,
                "switch": ENTERPRISE_SWITCH[strict],
                "trade_list": [enterprise_trade(trade) for trade in trades],
            },
            shop_no=shop_no,
        )
        return {trade.tid: None for trade in trades}

    def logistics_sync(self, shop_no: str, limit: int) -> list[LogisticsRecord]:
        # is_part_sync_able: the panel records split shipments by their oids
        answer = self.call(
            "logistics_sync_query", {"shop_no": shop_no, "limit": str(limit), "is_part_sync_able": "1"}, shop_no=shop_no
        )
        return [enterprise_record(raw) for raw in answer.get("trades") or []]

    def ack(self, acks: list[LogisticsAck]) -> dict[str, str | None]:
        answer = self.call("logistics_sync_ack", {"logistics_list": [enterprise_ack(ack) for ack in acks]})
        errors = {id_text(item.get("rec_id")): id_text(item.get("error")) for item in answer.get("errors") or []}
        return {ack.rec_id: errors.get(ack.rec_id) for ack in acks}

    def push_goods(self, shop_no: str, lines: list[PlatformGoodsLine]) -> ItemErrors:
        info = {"platform_id": OWN_PLATFORM_ID, "shop_no": shop_no, "goods_list": [goods_line(line) for line in lines]}
        answer = self.call("api_goodsspec_push", {"api_goods_info": info}, shop_no=shop_no)
        context = {"shop_no": shop_no}
        errors = {
            (id_text(item.get("goods_id")), id_text(item.get("spec_id"))): self.item_error(item.get("error"), context)
            for item in answer.get("errors") or []
        }
        return {(line.goods_id, line.spec_id): errors.get((line.goods_id, line.spec_id)) for line in lines}

    def push_refunds(self, shop_no: str, refunds: list[RawRefund]) -> ItemErrors:
        self.call(
            "sales_refund_push", {"api_refund_list": [enterprise_refund(shop_no, r) for r in refunds]}, shop_no=shop_no
        )
        return {refund.refund_no: None for refund in refunds}

    def shops(self, shop_no: str) -> list[dict]:
        answer = self.call("shop", {"shop_no": shop_no, "page_size": str(PAGE_SIZE), "page_no": "0"}, shop_no=shop_no)
        return answer.get("shoplist") or []

    def warehouses(self, warehouse_no: str) -> list[dict]:
        answer = self.call(
            "warehouse_query",
            {"warehouse_no": warehouse_no, "page_size": str(PAGE_SIZE), "page_no": "0"},
            warehouse_no=warehouse_no,
        )
        return answer.get("warehouses") or []

    def logistics_companies(self) -> list[dict]:
        return self.call("logistics", {}).get("logistics_list") or []

    def raw_trades(self, shop_no: str, tids: list[str]) -> set[str]:
        answer = self.call(
            "vip_api_trade_query",
            {"tid": ",".join(tids), "shop_no": shop_no, "page_size": str(PAGE_SIZE), "page_no": "0"},
            shop_no=shop_no,
        )
        return {
            id_text(row.get("tid"))
            for row in answer.get("trade_list") or []
            if id_text(row.get("shop_no")) in ("", shop_no)
        }

    def stock_changes(self, shop_no: str, limit: int) -> list[StockChange]:
        answer = self.call("api_goods_stock_change_query", {"shop_no": shop_no, "limit": str(limit)}, shop_no=shop_no)
        return [enterprise_stock_change(raw) for raw in answer.get("stock_change_list") or []]

    def stock_ack(self, acks: list[StockAck]) -> dict[str, str | None]:
        """Only applied stock is acknowledged: the enterprise ack has no failure flag, and an unacknowledged change
        is offered again (docs/wdt-protocol.md#doubt-stock-ack)."""
        applied = [ack for ack in acks if ack.ok]
        if not applied:
            return dict.fromkeys(ack.rec_id for ack in acks)
        answer = self.call(
            "api_goods_stock_change_ack", {"stock_sync_list": [enterprise_stock_ack(ack) for ack in applied]}
        )
        errors = {id_text(item.get("rec_id")): id_text(item.get("error")) for item in answer.get("errors") or []}
        return {ack.rec_id: errors.get(ack.rec_id) for ack in acks}


def _details(answer: dict, key: str = "details") -> list[dict]:
    """Ultimate queries answer `data` as a list or as {total_count, <key>}."""
    data = answer.get("data")
    if isinstance(data, dict):
        data = data.get(key)
    return data if isinstance(data, list) else []


def _data(answer: dict) -> dict:
    data = answer.get("data")
    return data if isinstance(data, dict) else {}


class UltimateWire(Wire):
    """The qjb gateway: auth in the query string, the body a JSON array of the method's arguments."""

    edition = EDITION_ULTIMATE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shop_ids: dict[str, str] = {}

    def send(self, method: str, args: list, page_size: int | None = None, page_no: int = 0, **context: str) -> dict:
        secret, salt = split_ultimate_secret(self.account.appsecret)
        body = compact_json(args)
        query = {
            "sid": self.account.sid,
            "key": self.account.appkey,
            "salt": salt,
            "method": method,
            "v": "1.0",
            "timestamp": str(ultimate_timestamp(self.clock())),
        }
        if page_size is not None:
            query.update(page_size=str(page_size), page_no=str(page_no), calc_total="0")
        query["sign"] = ultimate_sign({**query, "body": body}, secret)
        answer = self.post(
            self.account.base_url, params=query, data=body.encode("utf-8"), headers={"Content-Type": "application/json"}
        )
        self.check(answer.get("status", 0), answer, context)  # some methods leave `status` out on success
        return answer

    def push_trades(self, shop_no: str, trades: list[RawTrade], strict: bool) -> ItemErrors:
        heads, lines = [], []
        for trade in trades:
            head, rows = ultimate_trade(trade)
            heads.append(head)
            lines.extend(rows)
        answer = self.call("sales.RawTrade.pushSelf2", [shop_no, heads, lines], shop_no=shop_no)
        context = {"shop_no": shop_no}
        errors = {
            id_text(item.get("no")): self.item_error(item.get("error"), context)
            for item in _data(answer).get("error_list") or []
        }
        return {trade.tid: errors.get(trade.tid) for trade in trades}

    def logistics_sync(self, shop_no: str, limit: int) -> list[LogisticsRecord]:
        answer = self.call(
            "sales.LogisticsSync.getSyncListExt",
            [{"shop_no": shop_no, "is_own_platform": True}],
            page_size=limit,
            shop_no=shop_no,
        )
        return [ultimate_record(raw) for raw in _details(answer)]

    def ack(self, acks: list[LogisticsAck]) -> dict[str, str | None]:
        answer = self.call("sales.LogisticsSync.update", [[ultimate_ack(ack) for ack in acks]])
        return _errors_by_id([ack.rec_id for ack in acks], [id_text(text) for text in answer.get("data") or []])

    def push_goods(self, shop_no: str, lines: list[PlatformGoodsLine]) -> ItemErrors:
        self.call(
            "goods.ApiGoods.upload",
            [{"shop_no": shop_no, "goods_list": [goods_line(line) for line in lines]}],
            shop_no=shop_no,
        )
        return {(line.goods_id, line.spec_id): None for line in lines}

    def push_refunds(self, shop_no: str, refunds: list[RawRefund]) -> ItemErrors:
        rows = [row for refund in refunds for row in ultimate_refund_rows(refund)]
        self.call("aftersales.refund.RawRefund.upload", [shop_no, rows], shop_no=shop_no)
        return {refund.refund_no: None for refund in refunds}

    def shops(self, shop_no: str) -> list[dict]:
        return _details(
            self.call("setting.Shop.queryShop", [{"shop_no": shop_no}], page_size=PAGE_SIZE, shop_no=shop_no)
        )

    def warehouses(self, warehouse_no: str) -> list[dict]:
        return _details(
            self.call(
                "setting.Warehouse.queryWarehouse",
                [{"warehouse_no": warehouse_no}],
                page_size=PAGE_SIZE,
                warehouse_no=warehouse_no,
            )
        )

    def logistics_companies(self) -> list[dict]:
        companies: list[dict] = []
        for page_no in range(100):
            page = _details(self.call("setting.Logistics.queryLogistics", [{}], page_size=PAGE_SIZE, page_no=page_no))
            companies += page
            if len(page) < PAGE_SIZE:
                break
        return companies

    def raw_trades(self, shop_no: str, tids: list[str]) -> set[str]:
        found = set()
        for tid in tids:  # searchSelfOrder takes one tid
            answer = self.call(
                "sales.RawTrade.searchSelfOrder",
                [{"tid": tid, "shop_no": shop_no}],
                page_size=PAGE_SIZE,
                shop_no=shop_no,
            )
            found |= {
                tid
                for row in _details(answer, "order")
                if id_text(row.get("tid")) == tid and id_text(row.get("shop_no")) in ("", shop_no)
            }
        return found

    def stock_changes(self, shop_no: str, limit: int) -> list[StockChange]:
        """The rows waiting for a stock sync (all self-built shops of the account) and their stock, this shop's only."""
        ids = _list_of(_data(self.call("sales.StockSync.getSelfWaitSyncIdListOpen", [limit, 0])).get("id_list"))
        if not ids:
            return []
        shop_id = self.shop_id(shop_no)
        return [
            ultimate_stock_change(row)
            for row in self.calculated_stock(ids).values()
            if id_text(row.get("shop_id")) == shop_id
        ]

    def calculated_stock(self, rec_ids: list) -> dict[str, dict]:
        """rec_id -> batchCalcStock's row; rows WDT could not calculate (error_date) are left out, and so are ids
        that are no whole number (WDT's ids are; the call takes numbers), so that nonsense in one id does not stop
        the rest of the round. Only rows of the ids asked are kept; an answer of another shape keeps none."""
        wholes = [(rec_id, _whole_id(rec_id)) for rec_id in rec_ids]
        asked = dict.fromkeys(whole for _, whole in wholes if whole is not None)
        left_out = [rec_id for rec_id, whole in wholes if whole is None]
        if left_out:
            log.warning(
                "WDT account %s: stock sync ids that are no whole number left out: %s", self.account.sid, left_out
            )
        if not asked:
            return {}
        answer = self.call(
            "sales.StockSync.batchCalcStock",
            [[{"api_goods_id": int(rec_id), "force_sync": False} for rec_id in asked]],
        )
        rows = _list_of(_data(answer).get("success_date"))
        keyed = ((_whole_id(row.get("rec_id")), row) for row in rows if isinstance(row, dict))
        return {rec_id: row for rec_id, row in keyed if rec_id in asked}

    def stock_ack(self, acks: list[StockAck]) -> dict[str, str | None]:
        """syncSuccess / syncFail per row, with the strategy values calcStock gives for it now."""
        calculated = self.calculated_stock([ack.rec_id for ack in acks])
        results: dict[str, str | None] = {}
        for ack in acks:
            row = calculated.get(_whole_id(ack.rec_id) or "")  # as asked: WDT may spell an id "0008"
            if row is None:
                results[ack.rec_id] = "库存同步记录不存在或未开启同步"
                continue
            method = "sales.StockSync.syncSuccess" if ack.ok else "sales.StockSync.syncFail"
            try:
                self.call(method, [int(ack.rec_id), ultimate_stock_info(ack, row)])  # asked, so a whole number
                results[ack.rec_id] = None
            except WdtError as error:
                if error.transient or not error.item_level:
                    raise
                results[ack.rec_id] = error.wdt_message or error.code
        return results

    def shop_id(self, shop_no: str) -> str:
        """WDT's id of a shop (stock rows name shops by id), asked once per wire."""
        if shop_no not in self.shop_ids:
            shop = next((row for row in self.shops(shop_no) if id_text(row.get("shop_no")) == shop_no), None)
            if shop is None:
                raise wdt_error("unknown_shop", shop_no=shop_no)
            self.shop_ids[shop_no] = id_text(shop.get("shop_id"))
        return self.shop_ids[shop_no]


def _errors_by_id(ids: list[str], texts: list[str]) -> dict[str, str | None]:
    """LogisticsSync.update answers bare error strings: give each to the record it names; [?] an error naming
    none of them is charged to every record it could concern."""
    errors: dict[str, str | None] = dict.fromkeys(ids)
    for text in texts:
        named = [rec_id for rec_id in ids if re.search(rf"(?<!\d){re.escape(rec_id)}(?!\d)", text)]
        for rec_id in named or [rec_id for rec_id in ids if errors[rec_id] is None]:
            errors[rec_id] = text
    return errors


WIRES: dict[str, type[Wire]] = {EDITION_ENTERPRISE: EnterpriseWire, EDITION_ULTIMATE: UltimateWire}
