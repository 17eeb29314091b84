"""Secrets at rest, the mall's signed embed links, and HMAC signatures for the API and webhooks."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import cast

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, Request, Response, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
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
    """The embed link cannot be used; `reason` is one of expired, invalid, reused, unknown_merchant, bad_role.
    `claims` are the link's (genuine) claims when it is only spent or expired."""

    def __init__(self, reason: str, claims: EmbedClaims | None = None):
        super().__init__(reason)
        self.reason = reason
        self.claims = claims


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
    serializer = _embed_serializer()
    try:
        return _claims(serializer.loads(token, max_age=current_app.config["EMBED_TOKEN_MAX_AGE"]))
    except SignatureExpired as exc:
        claims = None if exc.payload is None else _claims(serializer.load_payload(exc.payload))
        raise EmbedTokenError("expired", claims) from exc
    except BadSignature as exc:
        raise EmbedTokenError("invalid") from exc


def _claims(data) -> EmbedClaims:
    try:
        return EmbedClaims(str(data["m"]), str(data["u"]), str(data["r"]), str(data["j"]))
    except (KeyError, TypeError) as exc:
        raise EmbedTokenError("invalid") from exc


# --- the session: a signed cookie, or a per-frame header where no cookie reaches the panel -------------

FRAME_HEADER = "X-Wdtpanel-Frame"


class PanelSession(SecureCookieSession):
    in_frame = False  # carried by the frame header (the mall's iframe), not by a cookie


class PanelSessionInterface(SecureCookieSessionInterface):
    """Flask's signed session, carried by the cookie or by the X-Wdtpanel-Frame header.

    Inside a cross-site iframe the browser may block every cookie of the panel. The page then keeps the signed
    session in the frame's sessionStorage and HTMX sends it in a header with each request; a changed session is
    handed back in the same header. In cross-site mode the cookie is partitioned (CHIPS), which Chromium accepts
    in a third-party frame."""

    session_class = PanelSession

    def open_session(self, app: Flask, request: Request) -> PanelSession | None:
        token = request.headers.get(FRAME_HEADER)
        if token is None:
            return cast("PanelSession | None", super().open_session(app, request))  # made of our session_class
        session = self.session_class()
        with contextlib.suppress(BadSignature):
            session = self.session_class(
                self._serializer(app).loads(token, max_age=int(app.permanent_session_lifetime.total_seconds()))
            )
        session.in_frame = True
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        response.vary.add(FRAME_HEADER)
        if not getattr(session, "in_frame", False):
            super().save_session(app, session, response)
        elif session.modified:
            response.headers[FRAME_HEADER] = self.frame_token(app, session) if session else ""

    def frame_token(self, app: Flask, session: SessionMixin) -> str:
        """The session as the frame keeps it (the same signed value the cookie would hold)."""
        return self._serializer(app).dumps(dict(session))

    def _serializer(self, app: Flask) -> URLSafeTimedSerializer:
        serializer = self.get_signing_serializer(app)
        if serializer is None:  # Flask's answer without a secret key; settings always set one
            raise RuntimeError("SECRET_KEY is not set")
        return serializer

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_PARTITIONED"]) or app.config["SESSION_COOKIE_SAMESITE"] == "None"


# --- HMAC over timestamp and body (ingest API and webhooks) ------------------------------------


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signatures_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
