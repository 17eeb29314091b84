"""Users and sign-in rules: passwords (constant time, throttled), the mall's embed links, session revocation."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from functools import cache

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, redis_connection
from .models import ROLES, EmbedTokenUse, Merchant, User
from .security import EmbedClaims, EmbedTokenError

log = logging.getLogger(__name__)

# Failed sign-ins allowed within the window, per account and per client address; then both wait.
ACCOUNT_FAILURES, ADDRESS_FAILURES, THROTTLE_SECONDS = 5, 20, 900


def find_merchant(code: str) -> Merchant | None:
    return db.session.scalar(select(Merchant).where(Merchant.code == code))


def find_user(merchant_id: int, username: str) -> User | None:
    return db.session.scalar(select(User).where(User.merchant_id == merchant_id, User.username == username))


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _decoy_hash(method: str) -> str:
    return generate_password_hash("no such user", method=method)


def authenticate(merchant_code: str, username: str, password: str) -> User | None:
    """The user, if the password is right. Takes as long for an unknown user as for a wrong password."""
    merchant = find_merchant(merchant_code)
    user = find_user(merchant.id, username) if merchant else None
    decoy = _decoy_hash(current_app.config["PASSWORD_HASH_METHOD"])
    stored = user.password_hash if user is not None and user.password_hash else decoy
    if not check_password_hash(stored, password) or user is None or not user.password_hash:
        return None
    return user


# --- throttling (Redis counters that expire with the window) --------------------------------------------------


def _throttle_keys(merchant_code: str, username: str, address: str) -> list[tuple[str, int]]:
    account = hashlib.sha256(f"{merchant_code}\0{username}".encode()).hexdigest()[:32]
    return [
        (f"wdtpanel:login:account:{account}", ACCOUNT_FAILURES),
        (f"wdtpanel:login:address:{address}", ADDRESS_FAILURES),
    ]


def login_wait(merchant_code: str, username: str, address: str) -> int:
    """Seconds until this account (or this address) may try again; 0 when it may now."""
    try:
        conn = redis_connection()
        waits = [
            conn.ttl(key)
            for key, limit in _throttle_keys(merchant_code, username, address)
            if int(conn.get(key) or 0) >= limit
        ]
    except RedisError:  # no Redis: sign-in still works (and says so in the log), unthrottled
        log.warning("login throttling unavailable (Redis unreachable)")
        return 0
    return max([max(wait, 1) for wait in waits], default=0)


def record_login_failure(merchant_code: str, username: str, address: str) -> None:
    try:
        pipe = redis_connection().pipeline()
        for key, _ in _throttle_keys(merchant_code, username, address):
            pipe.set(key, 0, ex=THROTTLE_SECONDS, nx=True)  # the window starts at the first failure
            pipe.incr(key)
        pipe.execute()
    except RedisError:
        log.warning("login failure not counted (Redis unreachable)")


def clear_login_failures(merchant_code: str, username: str) -> None:
    with contextlib.suppress(RedisError):
        redis_connection().delete(_throttle_keys(merchant_code, username, "")[0][0])


# --- users ----------------------------------------------------------------------------------------------------


def create_user(merchant: Merchant, username: str, password: str | None, role: str = "admin") -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    user = find_user(merchant.id, username) or User(merchant_id=merchant.id, username=username)
    user.role = role
    user.password_hash = _hash(password) if password else None
    db.session.add(user)
    db.session.flush()
    return user


def session_user(user_id, merchant_id, version) -> User | None:
    """The user a session names, if that session is still valid (same merchant, not signed out since)."""
    if not isinstance(user_id, int) or version is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.merchant_id != merchant_id or user.session_version != version:
        return None
    return user


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session made before now stops working. Flushes."""
    db.session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    db.session.flush()


def sign_in_from_embed(claims: EmbedClaims) -> User:
    """Consume the link's id (once only) and return the mall user, created on first visit. The link sets the role
    of users made by links; a user with a password keeps the role given to it here. Flushes."""
    if claims.role not in ROLES:
        raise EmbedTokenError("bad_role")
    merchant = find_merchant(claims.merchant_code)
    if merchant is None:
        raise EmbedTokenError("unknown_merchant")
    db.session.add(EmbedTokenUse(jti=claims.jti))
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise EmbedTokenError("reused", claims) from exc
    user = find_user(merchant.id, claims.username)
    if user is None:
        user = User(merchant_id=merchant.id, username=claims.username)
        db.session.add(user)
    if not user.password_hash:
        user.role = claims.role
    db.session.flush()
    return user


def is_user_of(user: User | None, claims: EmbedClaims) -> bool:
    return user is not None and user.username == claims.username and user.merchant.code == claims.merchant_code
