"""The audit log: who changed what, when. Added to the caller's transaction."""

from __future__ import annotations

from .extensions import db
from .models import AuditEntry, User


def record(merchant_id: int, user: User | None, action: str, target: str = "", details: dict | None = None) -> None:
    db.session.add(
        AuditEntry(
            merchant_id=merchant_id,
            user_id=user.id if user else None,
            actor=user.username if user else "system",
            action=action,
            target=target,
            details=details or {},
        )
    )
