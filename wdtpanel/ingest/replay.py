"""Replay protection for signed writes: a signature the API accepted is refused until its timestamp leaves the
window. Kept in the database, in the transaction of the write itself, so it holds across processes, needs no
Redis, and a write that was rolled back (refused, crashed) has not spent its signature."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from ..extensions import db
from ..models import SeenSignature
from .signature import REPLAY_WINDOW_SECONDS
from .snapshots import insert_unless_raced

PURGE_BATCH = 500


class ReplayedRequest(Exception):
    pass


def spend_signature(merchant_id: int, signature: str, timestamp: int, now: datetime) -> None:
    """Record the signature of the write being made; ReplayedRequest if it was accepted before. Does not commit."""
    expired = (select(SeenSignature.id)
               .where(SeenSignature.merchant_id == merchant_id, SeenSignature.expires_at < now)
               .limit(PURGE_BATCH).with_for_update(skip_locked=True))  # never waits on another request's purge
    db.session.execute(delete(SeenSignature).where(SeenSignature.id.in_(expired))
                       .execution_options(synchronize_session=False))
    expires_at = datetime.fromtimestamp(timestamp, timezone.utc) + timedelta(seconds=REPLAY_WINDOW_SECONDS)
    if not insert_unless_raced(SeenSignature(merchant_id=merchant_id, signature=signature, expires_at=expires_at)):
        raise ReplayedRequest(signature)
