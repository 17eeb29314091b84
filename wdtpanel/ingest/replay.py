"""Replay protection for signed writes: a signature the API accepted is refused until its timestamp leaves the
window. Kept in the database, in the transaction of the write itself, so it holds across processes, needs no
Redis, and a write that was rolled back (refused, crashed) has not spent its signature."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import delete
from sqlalchemy.engine import CursorResult

from ..extensions import db
from ..models import SeenSignature
from .signature import REPLAY_WINDOW_SECONDS
from .snapshots import insert_new


class ReplayedRequest(Exception):
    pass


def spend_signature(merchant_id: int, signature: str, timestamp: int) -> None:
    """Record the signature of the write being made; ReplayedRequest if it was accepted before. Does not commit."""
    expires_at = datetime.fromtimestamp(timestamp, UTC) + timedelta(seconds=REPLAY_WINDOW_SECONDS)
    if (
        insert_new(SeenSignature, {"merchant_id": merchant_id, "signature": signature, "expires_at": expires_at})
        is None
    ):
        raise ReplayedRequest(signature)


def purge_expired(now: datetime) -> int:
    """Forget signatures whose window is over (the sweeper calls this; a replay of them fails on its timestamp)."""
    result = db.session.execute(
        delete(SeenSignature).where(SeenSignature.expires_at < now).execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount
