"""The one skeleton every pull from WDT runs on (shipping, stock): per merchant and kind, one run at a time;
drain WDT's queue in rounds: apply each record, commit the round, then acknowledge it to WDT. A record the panel
cannot apply yet is kept whole as a PullIssue and applied again at the start of every later run (and on
重新同步), so nothing WDT sent is lost; a later success for the same record clears its issue. A record holding a
value the database refuses (longer than its column, a number beyond it) is kept so too, and its round goes on.

WDT offers a record again until it takes its ack, and some records cannot be acknowledged as failed (an enterprise
stock change): a round that brings nothing new this run ends the run instead of spinning on them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, StatementError

from ..columns import utcnow
from ..extensions import db
from ..locks import exclusive
from ..merchant_config import client_for, load_config
from ..metrics import count_pull
from ..models import PullIssue, SyncStatus, WdtConfig
from ..states import PullKind
from ..wdt import WdtClient, WdtError

log = logging.getLogger(__name__)

MAX_ROUNDS = 500  # bounds one run; the next run continues where WDT's queue stands
RETRIES_PER_RUN = 500  # open issues tried again at the start of a run, oldest first
LOCK_SECONDS = 120  # renewed every round; a killed puller blocks the next run at most this long

Record = TypeVar("Record")


@dataclass
class Applied:
    """What became of one record: applied (ok) or refused with a reason the panel keeps."""

    key: str
    ok: bool
    reason: str | None = None
    params: dict = field(default_factory=dict)
    subject: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class PullSummary:
    records: int = 0
    applied: int = 0
    failed: int = 0
    retried: int = 0
    error: str | None = None
    skipped: bool = False
    deliveries: list[int] = field(default_factory=list)  # webhook outbox rows to enqueue after commit


class PullSource(Protocol, Generic[Record]):
    """What a kind of pull knows; the runner knows the rest."""

    kind: PullKind

    def fetch(self, client: WdtClient, config: WdtConfig) -> Sequence[Record]:
        """One round of records waiting in WDT's queue."""

    def identity(self, record: Record) -> Hashable:
        """What makes a record new: the same identity offered again in one run is not applied twice."""

    def apply(self, config: WdtConfig, records: Sequence[Record], summary: PullSummary) -> list[Applied]:
        """Record them in the session (flush, no commit); outbox rows go to summary.deliveries."""

    def acknowledge(self, client: WdtClient, records: Sequence[Record], results: list[Applied]) -> None:
        """Tell WDT how each record went."""

    def rebuild(self, config: WdtConfig, raw: dict) -> Record:
        """A record again from what WDT sent, as kept in a PullIssue."""

    def refused(self, record: Record, reason: str, params: dict) -> Applied:
        """The record refused for `reason`, keyed, described and kept as this kind keeps its records."""


def run_pull(source: PullSource, merchant_id: int) -> PullSummary:
    summary = PullSummary()
    config = load_config(merchant_id)
    if config is None or not config.enabled:
        return summary
    with exclusive(f"pull:{source.kind}:{merchant_id}", LOCK_SECONDS) as held:
        if not held:
            summary.skipped = True
            return summary
        status = _status(merchant_id, source.kind)
        status.last_pull_at = utcnow()
        _retry_open_issues(source, config, summary)
        db.session.commit()  # protocol: a pull round commits its own steps
        open_keys = set(
            db.session.scalars(
                select(PullIssue.record_key).where(
                    PullIssue.merchant_id == merchant_id, PullIssue.kind == source.kind, PullIssue.resolved_at.is_(None)
                )
            )
        )
        client = client_for(config)
        seen: set[Hashable] = set()
        try:
            for _ in range(MAX_ROUNDS):
                records = [record for record in source.fetch(client, config) if source.identity(record) not in seen]
                if not records:
                    break
                seen.update(source.identity(record) for record in records)
                # counted first: the savepoints of the apply then sit inside the round's transaction (SQLite
                # begins one at a write only, and would commit an outermost savepoint on its release)
                _count_records(_status(merchant_id, source.kind), len(records))
                results = _apply_each_storable(source, config, records, summary)
                _keep_issues(source.kind, merchant_id, results, open_keys, summary)
                db.session.commit()  # recorded before WDT hears of it: a lost ack only means WDT offers it again
                source.acknowledge(client, records, results)
                summary.records += len(records)
                held.renew()
        except WdtError as error:
            db.session.rollback()
            summary.error = error.code
            status = _status(merchant_id, source.kind)
            status.wdt_reachable = not error.transient
            status.last_error_reason, status.last_error_params, status.last_error_at = (
                error.code,
                error.params,
                utcnow(),
            )
            db.session.commit()  # protocol: the acked round is recorded
            count_pull(source.kind, summary.applied, summary.failed)
            return summary
        status = _status(merchant_id, source.kind)
        status.last_success_at, status.wdt_reachable = utcnow(), True
        db.session.commit()  # protocol: a pull round commits its own steps
    count_pull(source.kind, summary.applied, summary.failed)
    return summary


def retry_issue(source: PullSource, merchant_id: int, issue_id: int) -> PullSummary | None:
    """重新同步 of one kept record, now. None when there is no such open issue of this merchant. Commits."""
    issue = db.session.scalar(
        select(PullIssue).where(
            PullIssue.merchant_id == merchant_id, PullIssue.id == issue_id, PullIssue.kind == source.kind
        )
    )
    config = load_config(merchant_id)
    if issue is None or issue.resolved_at is not None or config is None:
        return None
    summary = PullSummary()
    with exclusive(f"pull:{source.kind}:{merchant_id}", LOCK_SECONDS) as held:
        if not held:
            summary.skipped = True
            return summary
        _apply_kept(source, config, [issue], summary)
        db.session.commit()  # protocol: a retried record commits with its outcome
    return summary


def open_issues(merchant_id: int, kind: PullKind, limit: int = 20) -> list[PullIssue]:
    return list(
        db.session.scalars(
            select(PullIssue)
            .where(PullIssue.merchant_id == merchant_id, PullIssue.kind == kind, PullIssue.resolved_at.is_(None))
            .order_by(PullIssue.id.desc())
            .limit(limit)
        )
    )


def _retry_open_issues(source: PullSource, config: WdtConfig, summary: PullSummary) -> None:
    issues = list(
        db.session.scalars(
            select(PullIssue)
            .where(
                PullIssue.merchant_id == config.merchant_id,
                PullIssue.kind == source.kind,
                PullIssue.resolved_at.is_(None),
            )
            .order_by(PullIssue.id)
            .limit(RETRIES_PER_RUN)
        )
    )
    if issues:
        _apply_kept(source, config, issues, summary)


def _apply_kept(source: PullSource, config: WdtConfig, issues: list[PullIssue], summary: PullSummary) -> None:
    """Apply kept records again; those that go through clear their issue (WDT was told long ago: no new ack)."""
    for issue in issues:  # written first: the apply's savepoints then sit inside this transaction (SQLite)
        issue.updated_at = utcnow()
    results = _apply_each_storable(source, config, [source.rebuild(config, issue.record) for issue in issues], summary)
    summary.retried += len(issues)
    now = utcnow()
    for issue, result in zip(issues, results, strict=True):
        if result.ok:
            summary.applied += 1
            issue.resolved_at = now
        else:
            issue.reason, issue.params, issue.attempts = _reason(result), result.params, issue.attempts + 1


def _apply_each_storable(
    source: PullSource, config: WdtConfig, records: Sequence, summary: PullSummary
) -> list[Applied]:
    """Apply the records; when a value WDT sent cannot be stored (longer than its column, a number beyond it, a
    NUL), find the records refused by halving the round in trials (undone after), keep those as issues and apply
    the rest together. Else the round would fail every run, and every record behind it with it."""
    try:
        return _apply_in_savepoint(source, config, records, summary)
    except Exception as error:
        if not _unstorable(error):
            raise
        log.warning("a %s round holds a value that cannot be stored; finding its record", source.kind)
        refused = _refused_among(source, config, list(enumerate(records)), summary, error)
        if not refused:  # refused together, each part taken alone: not a value of one record
            raise
    rest = [record for index, record in enumerate(records) if index not in refused]
    applied = iter(_apply_in_savepoint(source, config, rest, summary) if rest else [])
    return [refused[index] if index in refused else next(applied) for index in range(len(records))]


def _unstorable(error: Exception) -> bool:
    """A value the database, its driver or a column type refuses, as opposed to the database being unreachable."""
    if isinstance(error, DBAPIError):
        return isinstance(error, DataError)
    if isinstance(error, StatementError):  # raised binding a value (an amount beyond 28 digits, ...)
        return isinstance(error.orig, ArithmeticError | UnicodeError | ValueError)
    return isinstance(error, ArithmeticError | UnicodeError)


def _refused_among(
    source: PullSource, config: WdtConfig, indexed: list[tuple[int, Any]], summary: PullSummary, error: Exception
) -> dict[int, Applied]:
    """The records refused among `indexed` (position, record), which were refused together with `error`: each
    half is tried alone, a refused half split again."""
    if len(indexed) == 1:
        cause = getattr(error, "orig", None) or error
        text = "a number out of range" if isinstance(cause, ArithmeticError) else str(cause) or type(cause).__name__
        detail = text.splitlines()[0][:200]
        return {indexed[0][0]: source.refused(indexed[0][1], "unstorable_record", {"detail": detail})}
    refused: dict[int, Applied] = {}
    half = len(indexed) // 2
    for part in (indexed[:half], indexed[half:]):
        try:
            _apply_in_savepoint(source, config, [record for _, record in part], summary, keep=False)
        except Exception as part_error:
            if not _unstorable(part_error):
                raise
            refused |= _refused_among(source, config, part, summary, part_error)
    return refused


def _apply_in_savepoint(
    source: PullSource, config: WdtConfig, records: Sequence, summary: PullSummary, keep: bool = True
) -> list[Applied]:
    """source.apply in a savepoint: undone whole (its writes and its outbox rows) when it raises, or after a trial
    (`keep` false)."""
    deliveries = len(summary.deliveries)
    savepoint = db.session.begin_nested()
    kept = False
    try:
        results = source.apply(config, records, summary)
        if keep:
            savepoint.commit()
            kept = True
            return results
        return []
    finally:
        if not kept:
            savepoint.rollback()
            del summary.deliveries[deliveries:]


def _issue_text(text: str, length: int = 64) -> str:
    """A record's key or subject as a PullIssue column holds it: without NULs, and a text too long for the column
    shortened with a digest of the whole, so two long keys stay two issues."""
    text = text.replace("\x00", "")
    if len(text) <= length:
        return text
    return text[: length - 13] + "…" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _keep_issues(
    kind: PullKind, merchant_id: int, results: list[Applied], open_keys: set[str], summary: PullSummary
) -> None:
    """Refused records are kept whole (one issue per record, however often WDT offers it); a record that now went
    through clears its open issue. Only rows that can matter are read: refused records and open issues."""
    keys = [key for result in results if (key := _issue_text(result.key)) in open_keys or not result.ok]
    issues = (
        {
            issue.record_key: issue
            for issue in db.session.scalars(
                select(PullIssue).where(
                    PullIssue.merchant_id == merchant_id, PullIssue.kind == kind, PullIssue.record_key.in_(keys)
                )
            )
        }
        if keys
        else {}
    )
    now = utcnow()
    for result in results:
        key = _issue_text(result.key)
        issue = issues.get(key)
        if result.ok:
            summary.applied += 1
            if issue is not None and issue.resolved_at is None:
                issue.resolved_at = now
                open_keys.discard(key)
            continue
        open_keys.add(key)
        summary.failed += 1
        if issue is None:
            issue = PullIssue(merchant_id=merchant_id, kind=kind, record_key=key, attempts=0)
            db.session.add(issue)
            issues[key] = issue
        issue.subject, issue.reason, issue.params, issue.record = (
            _issue_text(result.subject),
            _reason(result),
            result.params,
            result.raw,
        )
        issue.attempts, issue.resolved_at = (issue.attempts or 0) + 1, None


def _reason(result: Applied) -> str:
    if result.reason is None:  # every source names why it refused a record
        raise ValueError(f"record {result.key} was refused without a reason")
    return result.reason


def _status(merchant_id: int, kind: PullKind) -> SyncStatus:
    status = db.session.get(SyncStatus, (merchant_id, kind))
    if status is None:
        status = SyncStatus(merchant_id=merchant_id, kind=kind, last_error_params={}, records_today=0)
        db.session.add(status)
    return status


def _count_records(status: SyncStatus, count: int) -> None:
    """Records WDT brought today, in the panel's time zone (the run's lock makes this the only writer)."""
    today = datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
    if status.records_day != today:
        status.records_day, status.records_today = today, 0
    status.records_today = (status.records_today or 0) + count
