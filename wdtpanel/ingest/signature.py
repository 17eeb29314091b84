"""The mall's API credentials: key + HMAC-SHA256 over "timestamp.body", within a replay window."""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Merchant
from ..security import decrypt_secret, hmac_signature, signatures_match

REPLAY_WINDOW_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12
MAX_API_KEY_LENGTH = 64


class ApiAuthError(Exception):
    pass


@dataclass
class SignedRequest:
    merchant: Merchant
    timestamp: int
    signature: str  # lowercase hex, as computed here


def authenticate_request(api_key: str, timestamp: str, signature: str, body: bytes,
                         now: float | None = None) -> SignedRequest:
    if not api_key or not timestamp or not signature:
        raise ApiAuthError("X-Api-Key, X-Timestamp and X-Signature headers are required")
    if (not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS
            or abs((now or time.time()) - int(timestamp)) > REPLAY_WINDOW_SECONDS):
        raise ApiAuthError(f"X-Timestamp must be Unix seconds within {REPLAY_WINDOW_SECONDS}s of the server clock")
    merchant = None
    if len(api_key) <= MAX_API_KEY_LENGTH and api_key.isascii() and api_key.isprintable():  # else no key of ours
        merchant = db.session.scalar(select(Merchant).where(Merchant.api_key == api_key))
    if merchant is None or not merchant.api_secret_encrypted:
        raise ApiAuthError("unknown API key")
    expected = hmac_signature(decrypt_secret(merchant.api_secret_encrypted), timestamp, body)
    if not signatures_match(expected, signature):
        raise ApiAuthError("signature does not match: HMAC-SHA256(api_secret, timestamp + '.' + body), hex")
    return SignedRequest(merchant, int(timestamp), expected)
