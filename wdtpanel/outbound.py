"""Where the panel may send requests on a merchant's say-so (a custom WDT address, the mall's callback URL): public
hosts only, unless development allows private ones (WDTPANEL_ALLOW_PRIVATE_URLS). Checked when the address is
saved or tested and again before each call, after resolving the name."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


def check_public_url(url: str, allow_private: bool) -> None:
    """Raise UnsafeUrl when `url` is not http(s) or its host is (or resolves to) a loopback, private, link-local,
    multicast, reserved or unspecified address."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port  # .port raises for a port out of range
    except ValueError:  # e.g. "http://[::1/"
        raise UnsafeUrl(url[:64]) from None
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeUrl(host or url[:64])
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port or 80, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        raise UnsafeUrl(host) from None
    for address in addresses:
        if not isinstance(address, str):  # an IPv6 address of a Python built without IPv6: (family, raw bytes)
            raise UnsafeUrl(host)
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise UnsafeUrl(host)
