"""The mall's API credentials: key + HMAC-SHA256 over "timestamp.body", within a replay window."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Merchant
from ..security import decrypt_secret, hmac_signature, signatures_match

REPLAY_WINDOW_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12
MAX_API_KEY_LENGTH = 64
KEY_CACHE_SIZE = 10_000


class ApiAuthError(Exception):
    pass


@dataclass
class SignedRequest:
    merchant_id: int
    timestamp: int
    signature: str  # lowercase hex, as computed here


def _credentials(api_key: str) -> tuple[int, str] | None:
    """The merchant and secret of an API key, from a short cache per app (every request would otherwise pay a
    query and a decryption); a key changed in the database is seen within API_KEY_CACHE_SECONDS."""
    _keys: dict[str, tuple[float, int, str]] = current_app.extensions.setdefault("wdtpanel.api_keys", {})
    now = time.monotonic()
    cached = _keys.get(api_key)
    if cached is not None and now - cached[0] < current_app.config["API_KEY_CACHE_SECONDS"]:
        return cached[1], cached[2]
    row = db.session.execute(
        select(Merchant.id, Merchant.api_secret_encrypted).where(Merchant.api_key == api_key)
    ).first()
    if row is None or not row.api_secret_encrypted:
        _keys.pop(api_key, None)
        return None
    if len(_keys) >= KEY_CACHE_SIZE:
        _keys.clear()
    _keys[api_key] = (now, row.id, decrypt_secret(row.api_secret_encrypted))
    return row.id, _keys[api_key][2]


def authenticate_request(
    api_key: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> SignedRequest:
    if not api_key or not timestamp or not signature:
        raise ApiAuthError("X-Api-Key, X-Timestamp and X-Signature headers are required")
    if (
        not (timestamp.isascii() and timestamp.isdigit())
        or len(timestamp) > MAX_TIMESTAMP_DIGITS
        or abs((now or time.time()) - int(timestamp)) > REPLAY_WINDOW_SECONDS
    ):
        raise ApiAuthError(f"X-Timestamp must be Unix seconds within {REPLAY_WINDOW_SECONDS}s of the server clock")
    credentials = None
    if len(api_key) <= MAX_API_KEY_LENGTH and api_key.isascii() and api_key.isprintable():  # else no key of ours
        credentials = _credentials(api_key)
    if credentials is None:
        raise ApiAuthError("unknown API key")
    merchant_id, secret = credentials
    expected = hmac_signature(secret, timestamp, body)
    if not signatures_match(expected, signature):
        raise ApiAuthError("signature does not match: HMAC-SHA256(api_secret, timestamp + '.' + body), hex")
    return SignedRequest(merchant_id, int(timestamp), expected)
