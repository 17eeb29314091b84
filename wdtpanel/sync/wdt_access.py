"""The WDT client for a merchant's saved config: one client (one requests.Session) per merchant and config."""
from __future__ import annotations

from ..models import WdtConfig
from ..wdt import WdtAccount, WdtClient, base_url_for
from .config import appsecret_of, make_client

_clients: dict[int, tuple[object, WdtClient]] = {}


def account_for(config: WdtConfig) -> WdtAccount:
    return WdtAccount(
        edition=config.edition,
        base_url=base_url_for(config.edition, config.environment, config.custom_base_url),
        sid=config.sid, appkey=config.appkey, appsecret=appsecret_of(config),
    )


def client_for(config: WdtConfig) -> WdtClient:
    """Reused while the config is unchanged, so calls of one merchant share a connection pool."""
    cached = _clients.get(config.merchant_id)
    if cached is None or cached[0] != config.updated_at:
        cached = (config.updated_at, make_client(account_for(config)))
        _clients[config.merchant_id] = cached
    return cached[1]
