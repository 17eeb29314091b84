"""Users and sign-in rules."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .models import ROLES, EmbedTokenUse, Merchant, User
from .security import EmbedClaims, EmbedTokenError


def find_merchant(code: str) -> Merchant | None:
    return db.session.scalar(select(Merchant).where(Merchant.code == code))


def find_user(merchant_id: int, username: str) -> User | None:
    return db.session.scalar(select(User).where(User.merchant_id == merchant_id, User.username == username))


def authenticate(merchant_code: str, username: str, password: str) -> User | None:
    merchant = find_merchant(merchant_code)
    user = find_user(merchant.id, username) if merchant else None
    if user is None or not user.password_hash or not check_password_hash(user.password_hash, password):
        return None
    return user


def create_user(merchant: Merchant, username: str, password: str | None, role: str = "admin") -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    user = find_user(merchant.id, username) or User(merchant_id=merchant.id, username=username)
    user.role = role
    user.password_hash = generate_password_hash(password) if password else None
    db.session.add(user)
    db.session.commit()
    return user


def sign_in_from_embed(claims: EmbedClaims) -> User:
    """Consume the link's id (once only) and return the mall user, created on first visit."""
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
        raise EmbedTokenError("reused") from exc
    user = find_user(merchant.id, claims.username)
    if user is None:
        user = User(merchant_id=merchant.id, username=claims.username)
        db.session.add(user)
    user.role = claims.role
    db.session.commit()
    return user
