"""Publish a validated upload: all or nothing, one store commit, who/when/file/SHA-256/counts.

A report with any error publishes nothing; warnings must be acknowledged; a comment is required.
The store serialises publishers and keeps the previous state through any failure.
"""

from __future__ import annotations

from pathlib import Path

from metrics import process
from metrics.auth import User, audit, require
from metrics.ingest import adapter, dryrun, locks
from metrics.ingest.report import Report
from metrics.ingest.text import TEXT
from metrics.store import Store


class PublishRefused(ValueError):
    """Not published; ``key`` names the message in text.py."""

    def __init__(self, key: str):
        super().__init__(TEXT[key][0])
        self.key = key

    def message(self, lang: str = "zh") -> str:
        return TEXT[self.key][lang == "en"]


def publish(store: Store, report: Report, *, user: User, comment: str, acknowledge_warnings: bool = False,
            summary: dryrun.Summary | None = None):
    """Publish ``report.facts`` as one snapshot; return it. Raises PermissionDenied or PublishRefused."""
    require(user, "analyst")
    if not report.ok or report.facts.empty:
        raise PublishRefused("has_errors")
    if not (comment or "").strip():
        raise PublishRefused("comment_required")
    if not report.warnings.empty and not acknowledge_warnings:
        raise PublishRefused("ack_required")
    if set(report.facts["period"]) & locks.locked_periods(store.dir):   # locked since the dry run
        raise PublishRefused("has_errors")
    counts = summary or dryrun.summarize(store, report, with_status=False)
    if counts.new + counts.changed == 0:
        raise PublishRefused("nothing_new")
    name = Path(report.source_name).name
    snap = adapter.publish(store, report.facts, user=user, comment=comment.strip(), source_name=name,
                           source_sha256=report.sha256)
    audit.record(store.dir, user, "ingest", snapshot=snap.id, file=name, sha256=report.sha256,
                 rows=int(len(report.facts)), comment=comment.strip(), warnings=int(len(report.warnings)),
                 **counts.counts())
    process.release_memory()
    return snap


def retract(store: Store, snapshot_id: int, *, user: User, comment: str | None = None):
    require(user, "analyst")
    return adapter.retract(store, snapshot_id, user=user, comment=comment)   # the store audits it


def restore(store: Store, snapshot_id: int, *, user: User, comment: str | None = None):
    require(user, "analyst")
    return adapter.restore(store, snapshot_id, user=user, comment=comment)
