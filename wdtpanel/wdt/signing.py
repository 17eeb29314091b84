"""Request signatures of both WDT editions (docs/wdt-protocol.md#signing), shared by the client and the simulator."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

# [?] docs/wdt-protocol.md#doubt-sign-length: the enterprise doc says "utf8 character length": the official PHP
# client counts code points, some SDKs count bytes. We count code points; JSON values are sent \u-escaped, so both
# readings agree for them (vector E3).
SIGN_LENGTH = len

# Ultimate timestamps count seconds from 2012-01-01 00:00:00 UTC+8 instead of 1970.
ULTIMATE_EPOCH = 1325347200


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def enterprise_sign(params: Mapping[str, str], appsecret: str) -> str:
    """MD5 of `LL-key:VVVV-value` pairs sorted by key, joined by ';', followed by the whole appsecret."""
    pairs = [
        f"{SIGN_LENGTH(key):02d}-{key}:{SIGN_LENGTH(value):04d}-{value}"
        for key, value in sorted(params.items())
        if key != "sign"
    ]
    return _md5(";".join(pairs) + appsecret)


def split_ultimate_secret(appsecret: str) -> tuple[str, str]:
    """An ultimate appsecret is `secret:salt`, split at the first ':'."""
    secret, _, salt = appsecret.partition(":")
    return secret, salt


def ultimate_sign(params: Mapping[str, str], secret: str) -> str:
    """MD5 of secret + every key and value sorted by key (including `body`, the JSON text) + secret."""
    joined = "".join(f"{key}{value}" for key, value in sorted(params.items()) if key != "sign")
    return _md5(secret + joined + secret)


def ultimate_timestamp(unix_seconds: float) -> int:
    return int(unix_seconds) - ULTIMATE_EPOCH
