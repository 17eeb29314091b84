"""Where the panel may send requests on a merchant's say-so (a custom WDT address, the mall's callback URL): public
hosts only, unless development allows private ones (WDTPANEL_ALLOW_PRIVATE_URLS). Checked when the address is
saved or tested, and on every call the connection goes to the address that was checked, never to a second lookup
of the name (a name that answers a public address first and a private one next cannot reach inside)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter


class UnsafeUrl(ValueError):
    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


class UnsafeAddress(requests.ConnectionError):
    """Raised on a call whose host (now) resolves to an address the panel may not call."""


def check_public_url(url: str, allow_private: bool) -> None:
    """Raise UnsafeUrl when `url` is not http(s) or its host is (or resolves to) a loopback, private, link-local,
    multicast, reserved or unspecified address."""
    _host_and_port(url)
    if not allow_private:
        public_addresses(url)


def public_addresses(url: str) -> list[str]:
    """Every address the host of `url` resolves to, all of them public; else UnsafeUrl."""
    host, port = _host_and_port(url)
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UnsafeUrl(host) from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    for address in addresses:
        if not isinstance(address, str):  # an IPv6 address of a Python built without IPv6: (family, raw bytes)
            raise UnsafeUrl(host)
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise UnsafeUrl(host)
    return [str(address) for address in addresses]


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port  # .port raises for a port out of range
    except ValueError:  # e.g. "http://[::1/"
        raise UnsafeUrl(url[:64]) from None
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeUrl(host or url[:64])
    return host, port or (443 if parts.scheme == "https" else 80)


class PinnedAdapter(HTTPAdapter):
    """Connects to a public address the host resolved to when the request was made, checked then; HTTPS still
    verifies the certificate for the name."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        try:
            addresses = public_addresses(request.url)
        except UnsafeUrl as error:
            raise UnsafeAddress(f"{error.host} is not a public address") from None
        address = next((a for a in addresses if ":" not in a), addresses[0])  # IPv4 first: not every host routes v6
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = pool_kwargs["assert_hostname"] = host_params["host"]
        host_params["host"] = address
        return host_params, pool_kwargs

    def send(self, request, *args, **kwargs):
        # The name, not the IP; set on every send, as a redirect copies the headers of the request before it.
        request.headers["Host"] = urlsplit(request.url).netloc.rpartition("@")[2]
        return super().send(request, *args, **kwargs)


def pin_addresses(session: requests.Session, allow_private: bool) -> requests.Session:
    """Make `session` call only public addresses, pinned as above (development may allow any)."""
    if not allow_private:
        adapter = PinnedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
