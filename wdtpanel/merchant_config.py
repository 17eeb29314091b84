"""The merchant's WDT configuration: load, save (with audit), what the page may show of it, and its WDT client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from . import audit
from .columns import utcnow
from .extensions import db, redis_connection
from .metrics import time_wdt_calls
from .models import LogisticsMapping, Merchant, User, WdtConfig
from .outbound import UnsafeUrl, check_public_url, pin_addresses
from .pacing import Pacer, PacingExceeded
from .reasons import render
from .security import decrypt_secret, encrypt_secret, mask_secret
from .wdt import CheckItem, ConnectionReport, WdtAccount, WdtClient, base_url_for
from .wdt.editions import BASE_URLS
from .wdt.errors import wdt_error

# Fields copied as they are from the form; the secret and the mapping have rules of their own.
PLAIN_FIELDS = ("edition", "environment", "custom_base_url", "sid", "appkey", "shop_no", "warehouse_no", "enabled")
SECRET_CHANGED = "(changed)"


class ConfigError(Exception):
    """A field the service refuses: `code` and `params` name the notice (wdtpanel/reasons.py) to show under it."""

    def __init__(self, field_name: str, code: str, **params: str):
        super().__init__(code)
        self.field_name, self.code, self.params = field_name, code, params

    @property
    def message(self) -> str:
        return render(self.code, self.params)


@dataclass
class LogisticsChoice:
    wdt_code: str
    wdt_name: str
    mall_code: str


@dataclass
class ConfigInput:
    edition: str
    environment: str
    custom_base_url: str | None
    sid: str
    appkey: str
    appsecret: str | None  # empty: keep the saved one
    shop_no: str
    warehouse_no: str
    enabled: bool
    logistics: list[LogisticsChoice] = field(default_factory=list)
    webhook_url: str | None = None
    goods_editor_url: str | None = None  # the mall's goods editor link (商品 page), {goods_id} etc. filled in
    known_logistics: list[dict] | None = None  # WDT's companies the page listed; None keeps the saved list


def load_config(merchant_id: int) -> WdtConfig | None:
    return db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == merchant_id))


def masked_appsecret(config: WdtConfig | None) -> str | None:
    if config is None or not config.appsecret_encrypted:
        return None
    return mask_secret(decrypt_secret(config.appsecret_encrypted))


def appsecret_of(config: WdtConfig) -> str:
    return decrypt_secret(config.appsecret_encrypted) if config.appsecret_encrypted else ""


def save_config(merchant_id: int, user: User | None, data: ConfigInput) -> WdtConfig:
    """Apply the form to the merchant's config; one audit entry lists what changed (never the secret). Flushes."""
    config = load_config(merchant_id) or WdtConfig(merchant_id=merchant_id, known_logistics=[])
    if not data.appsecret and not config.appsecret_encrypted:
        raise ConfigError("appsecret", "appsecret_required")
    _check_addresses(data)
    changes: dict[str, list | str] = {}  # [old, new], or SECRET_CHANGED
    for name in PLAIN_FIELDS:
        old, new = getattr(config, name), getattr(data, name)
        if old != new:
            changes[name] = [old, new]
            setattr(config, name, new)
    if data.appsecret:
        if not config.appsecret_encrypted or appsecret_of(config) != data.appsecret:
            changes["appsecret"] = SECRET_CHANGED
        config.appsecret_encrypted = encrypt_secret(data.appsecret)
    if "enabled" in changes and data.enabled:
        config.enabled_at = utcnow()
    if data.known_logistics is not None:
        config.known_logistics = data.known_logistics
    _apply_logistics(config, merchant_id, data.logistics, changes)
    merchant = db.session.get(Merchant, merchant_id)
    for name in ("webhook_url", "goods_editor_url"):
        if getattr(merchant, name) != getattr(data, name):
            changes[name] = [getattr(merchant, name), getattr(data, name)]
            setattr(merchant, name, getattr(data, name))
    db.session.add(config)
    if changes:
        audit.record(merchant_id, user, "wdt_config.update", "旺店通配置", changes)
    db.session.flush()
    return config


def _apply_logistics(config: WdtConfig, merchant_id: int, choices: list[LogisticsChoice], changes: dict) -> None:
    before = {m.wdt_code: m.mall_code for m in config.logistics}
    after = {c.wdt_code: c.mall_code for c in choices}
    if before == after:
        return
    changes["logistics"] = [before, after]
    existing = {m.wdt_code: m for m in config.logistics}
    for choice in choices:
        mapping = existing.pop(choice.wdt_code, None)
        if mapping is None:
            mapping = LogisticsMapping(merchant_id=merchant_id, wdt_code=choice.wdt_code)
            config.logistics.append(mapping)
        mapping.wdt_name, mapping.mall_code = choice.wdt_name, choice.mall_code
    for dropped in existing.values():
        config.logistics.remove(dropped)


def make_client(account: WdtAccount, before_call: Callable[[str], None] | None = None) -> WdtClient:
    client = WdtClient(
        account,
        connect_timeout=current_app.config["WDT_CONNECT_TIMEOUT"],
        read_timeout=current_app.config["WDT_READ_TIMEOUT"],
        before_call=before_call,
    )
    time_wdt_calls(client.session, account.edition)
    if account.base_url not in BASE_URLS.values():  # a merchant's own address, not one of WDT's
        pin_addresses(client.session, current_app.config["ALLOW_PRIVATE_URLS"])
    return client


def _check_addresses(data: ConfigInput) -> None:
    allow_private = current_app.config["ALLOW_PRIVATE_URLS"]
    for field_name, url in (
        ("custom_base_url", data.custom_base_url if data.environment == "custom" else None),
        ("webhook_url", data.webhook_url),
    ):
        if url:
            try:
                check_public_url(url, allow_private)
            except UnsafeUrl as error:
                raise ConfigError(field_name, "url_not_public", host=error.host) from None


def check_connection(config: WdtConfig | None, data: ConfigInput) -> ConnectionReport:
    """Sign real calls with the entered values (the saved secret when the field is left empty)."""
    try:
        _check_addresses(data)
    except ConfigError as error:
        refused, skipped = CheckItem(False, error.code, error.params), CheckItem(False, "not_checked")
        return ConnectionReport(refused, skipped, skipped, [])
    appsecret = data.appsecret or (appsecret_of(config) if config else "")
    account = WdtAccount(
        edition=data.edition,
        base_url=base_url_for(data.edition, data.environment, data.custom_base_url),
        sid=data.sid,
        appkey=data.appkey,
        appsecret=appsecret,
    )
    with make_client(account) as client:
        return client.check_connection(data.shop_no, data.warehouse_no)


_clients: dict[int, tuple[object, WdtClient]] = {}
_heartbeats: ContextVar[tuple[Callable[[], None], ...]] = ContextVar("wdt_call_heartbeats", default=())


@contextmanager
def heartbeat_while_calling(renew: Callable[[], None]) -> Iterator[None]:
    """Run `renew` before every WDT call made inside the block (a push renews its claim lease so)."""
    token = _heartbeats.set((*_heartbeats.get(), renew))
    try:
        yield
    finally:
        _heartbeats.reset(token)


def pacer_for(config: WdtConfig) -> Pacer:
    settings = current_app.config
    return Pacer(
        redis_connection(),
        f"wdtpanel:pace:{config.merchant_id}:{config.edition}",
        settings["WDT_CALLS_PER_MINUTE"],
        settings["WDT_CALLS_BURST"],
        settings["WDT_PACING_MAX_WAIT"],
    )


def _before_call(pacer: Pacer) -> Callable[[str], None]:
    def before_call(method: str) -> None:
        renewals = _heartbeats.get()
        for renew in renewals:
            renew()
        try:
            waited = pacer.wait_for_slot()
        except PacingExceeded:
            raise wdt_error("rate_limited", wdt_message=f"paced locally before {method}") from None
        if waited:  # the lease must cover the call itself too
            for renew in renewals:
                renew()

    return before_call


def account_for(config: WdtConfig) -> WdtAccount:
    return WdtAccount(
        edition=config.edition,
        base_url=base_url_for(config.edition, config.environment, config.custom_base_url),
        sid=config.sid,
        appkey=config.appkey,
        appsecret=appsecret_of(config),
    )


def client_for(config: WdtConfig) -> WdtClient:
    """Reused while the config is unchanged, so calls of one merchant share a connection pool."""
    cached = _clients.get(config.merchant_id)
    if cached is None or cached[0] != config.updated_at:
        if config.environment == "custom" and config.custom_base_url:
            try:
                check_public_url(config.custom_base_url, current_app.config["ALLOW_PRIVATE_URLS"])
            except UnsafeUrl as error:
                raise wdt_error("network", wdt_message="address not public", host=error.host) from None
        cached = (config.updated_at, make_client(account_for(config), _before_call(pacer_for(config))))
        _clients[config.merchant_id] = cached
    return cached[1]
