"""The two WDT editions: where they live and how much one call may carry (wdt-api.md §1, §3)."""
from __future__ import annotations

from dataclasses import dataclass

EDITION_ENTERPRISE = "enterprise"
EDITION_ULTIMATE = "ultimate"
ENVIRONMENTS = ("production", "sandbox", "custom")

# [?] Ultimate production follows the doc (wdt.wangdian.cn/openapi); one SDK's example shows https://api.wangdian.cn.
BASE_URLS = {
    (EDITION_ENTERPRISE, "production"): "https://api.wangdian.cn/openapi2/",
    (EDITION_ENTERPRISE, "sandbox"): "https://sandbox.wangdian.cn/openapi2/",
    (EDITION_ULTIMATE, "production"): "http://wdt.wangdian.cn/openapi",
    (EDITION_ULTIMATE, "sandbox"): "http://47.92.239.46/openapi",
}
GATEWAY_PATHS = {EDITION_ENTERPRISE: "/openapi2/", EDITION_ULTIMATE: "/openapi"}

# [?] trade_push `switch`: SDK comments say 0 lenient, 1 strict; we read strict as "refuse goods WDT does not know".
ENTERPRISE_SWITCH = {True: "1", False: "0"}


def base_url_for(edition: str, environment: str, custom_url: str | None = None) -> str:
    """The edition's base URL; for "custom", `custom_url` is a host root (e.g. the simulator's) or already the full URL."""
    if edition not in GATEWAY_PATHS or environment not in ENVIRONMENTS:
        raise ValueError(f"unknown WDT edition or environment: {edition!r}, {environment!r}")
    if environment != "custom":
        return BASE_URLS[(edition, environment)]
    if not custom_url:
        raise ValueError("a custom WDT environment needs its URL")
    path = GATEWAY_PATHS[edition]
    url = custom_url.rstrip("/")
    if not url.endswith(path.rstrip("/")):
        url += path.rstrip("/")
    return url + ("/" if path.endswith("/") else "")


@dataclass(frozen=True)
class BatchLimits:
    trades: int
    acks: int
    goods: int
    refunds: int


# Records per call: trades §3.1, acks §3.3 (Y doc's advice), goods §3.4, refunds §3.5.
BATCH_LIMITS = {
    EDITION_ENTERPRISE: BatchLimits(trades=50, acks=50, goods=2000, refunds=10),
    EDITION_ULTIMATE: BatchLimits(trades=100, acks=50, goods=2000, refunds=10),
}
