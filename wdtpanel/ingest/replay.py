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
from .signature import REPLAY_WINDOW_SECONDS, SignedRequest
from .snapshots import insert_new


class ReplayedRequest(Exception):
    pass


SPENT_COLUMNS = ("merchant_id", "signature", "expires_at")


def spent_signature(signed: SignedRequest) -> dict:
    """The row that records a signed write as made: its signature is refused until the timestamp leaves the
    window."""
    expires_at = datetime.fromtimestamp(signed.timestamp, UTC) + timedelta(seconds=REPLAY_WINDOW_SECONDS)
    return dict(zip(SPENT_COLUMNS, (signed.merchant_id, signed.signature, expires_at), strict=True))


def spend_signature(signed: SignedRequest) -> None:
    """Record the signature of the write being made; ReplayedRequest if it was accepted before. Does not commit."""
    if insert_new(SeenSignature, spent_signature(signed)) is None:
        raise ReplayedRequest(signed.signature)


def purge_expired(now: datetime) -> int:
    """Forget signatures whose window is over (the sweeper calls this; a replay of them fails on its timestamp)."""
    result = db.session.execute(
        delete(SeenSignature).where(SeenSignature.expires_at < now).execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount
