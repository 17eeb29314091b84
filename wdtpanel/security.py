"""Secrets at rest, the mall's signed embed links, and HMAC signatures for the API and webhooks."""
from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in current_app.config["ENCRYPTION_KEYS"]])


def encrypt_secret(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # key lost or rotated away: never echo the token
        raise ValueError("stored secret cannot be decrypted with the configured keys") from exc


def mask_secret(plain: str) -> str:
    """What the page shows of a saved secret: dots and its last four characters."""
    return "••••••" + plain[-4:] if len(plain) > 8 else "••••••"


# --- embed links -----------------------------------------------------------------------------

EMBED_SALT = "wdtpanel-embed"


class EmbedTokenError(Exception):
    """The embed link cannot be used; `reason` is one of expired, invalid, reused, unknown_merchant."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class EmbedClaims:
    merchant_code: str
    username: str
    role: str
    jti: str


def _embed_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["EMBED_SECRET"], salt=EMBED_SALT)


def make_embed_token(merchant_code: str, username: str, role: str = "staff") -> str:
    """What the mall's backend does to send a user over (also used by tests and the demo)."""
    payload = {"m": merchant_code, "u": username, "r": role, "j": uuid.uuid4().hex}
    return _embed_serializer().dumps(payload)


def read_embed_token(token: str) -> EmbedClaims:
    try:
        data = _embed_serializer().loads(token, max_age=current_app.config["EMBED_TOKEN_MAX_AGE"])
    except SignatureExpired as exc:
        raise EmbedTokenError("expired") from exc
    except BadSignature as exc:
        raise EmbedTokenError("invalid") from exc
    try:
        return EmbedClaims(str(data["m"]), str(data["u"]), str(data["r"]), str(data["j"]))
    except (KeyError, TypeError) as exc:
        raise EmbedTokenError("invalid") from exc


# --- HMAC over timestamp and body (ingest API and webhooks) ------------------------------------


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signatures_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
