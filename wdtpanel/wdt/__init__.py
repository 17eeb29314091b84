"""The only code that speaks WDT (旺店通): both API editions, their signing, payloads and errors.

Knows nothing of Flask or the database; docs/wdt-protocol.md holds the facts it relies on.
"""

from .client import WdtClient
from .editions import BASE_URLS, BATCH_LIMITS, EDITION_ENTERPRISE, EDITION_ULTIMATE, base_url_for
from .errors import WdtError, WdtPermanentError, WdtTransientError, WdtUnsupported
from .payloads import (
    CheckItem,
    ConnectionReport,
    LogisticsAck,
    LogisticsCompany,
    LogisticsRecord,
    PlatformGoodsLine,
    RawRefund,
    RawTrade,
    RawTradeLine,
    StockAck,
    StockChange,
)
from .wire import WdtAccount

__all__ = [
    "BASE_URLS",
    "BATCH_LIMITS",
    "EDITION_ENTERPRISE",
    "EDITION_ULTIMATE",
    "CheckItem",
    "ConnectionReport",
    "LogisticsAck",
    "LogisticsCompany",
    "LogisticsRecord",
    "PlatformGoodsLine",
    "RawRefund",
    "RawTrade",
    "RawTradeLine",
    "StockAck",
    "StockChange",
    "WdtAccount",
    "WdtClient",
    "WdtError",
    "WdtPermanentError",
    "WdtTransientError",
    "WdtUnsupported",
    "base_url_for",
]
