"""The assessment report's data: everything a report shows, read from metrics.query once.

``report_data`` is the only place the report touches the store; the content (``content.py``) and
the two writers (``docx.py``, ``pdf.py``) only format what it returns, so DOCX and PDF carry the
same numbers, and a rebuild for the same snapshot carries identical ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from metrics import i18n, query
from metrics.catalog import Document, Plan, Target
from metrics.query import IndicatorStatus
from metrics.regions import Region
from metrics.store import Snapshot, Store

LAGGING_SEVERITY = 3   # i18n.STATUS_SEVERITY at or above this is "lagging"


class ReportError(ValueError):
    """Bad input for a report; ``message(lang)`` is for the user."""

    def __init__(self, key: str, **detail: object):
        super().__init__(i18n.tr(key, "en", **detail))
        self.key, self.detail = key, detail

    def message(self, lang: str = "zh") -> str:
        return i18n.tr(self.key, lang, **self.detail)


@dataclass
class SubRegionGap:
    region: Region
    off_track: int
    regressing: int
    accelerate: int
    gap: float


@dataclass
class Citation:
    indicator_code: str
    target: Target
    document: Document | None


@dataclass
class ReportData:
    region: Region
    path: list[Region]
    period: str
    plan: Plan
    generated: dt.date
    version: int | str
    snapshot: Snapshot | None          # the newest snapshot the report reads (or the as-of one)
    as_of: int | str | None
    demo: bool
    rows: list[IndicatorStatus]
    children: dict[str, list[IndicatorStatus]]
    child_regions: list[Region]
    benchmarks: dict[str, list[tuple[str, float]]]
    provenance: dict[str, int | None]   # indicator code → snapshot id of its current value
    snapshots: list[Snapshot]           # those snapshots, oldest first
    citations: list[Citation] = field(default_factory=list)

    @property
    def version_label(self) -> str:
        """v9 (the live store's version), or #6 (the snapshot an as-of report stands at)."""
        if self.as_of is None or self.snapshot is None:
            return f"v{self.version}"
        return f"#{self.snapshot.id}"

    @property
    def with_target(self) -> list[IndicatorStatus]:
        return [r for r in self.rows if r.target is not None]

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.rows:
            counts[r.assessment.status] = counts.get(r.assessment.status, 0) + 1
        return {s: counts[s] for s in i18n.STATUS_ORDER if s in counts}

    def lagging(self) -> list[IndicatorStatus]:
        """Lagging indicators, worst first (severity, then least progress)."""
        bad = [r for r in self.rows if i18n.STATUS_SEVERITY[r.assessment.status] >= LAGGING_SEVERITY]
        return sorted(bad, key=lambda r: (-i18n.STATUS_SEVERITY[r.assessment.status],
                                          r.assessment.progress if r.assessment.progress is not None else 0.0,
                                          r.indicator.code))

    def subregion_gaps(self) -> list[SubRegionGap]:
        """Sub-regions by how far behind they are: the summed shortfall of their lagging indicators."""
        out = []
        for child in self.child_regions:
            statuses = self.children.get(child.code, [])
            bad = [s for s in statuses if i18n.STATUS_SEVERITY[s.assessment.status] >= LAGGING_SEVERITY]
            out.append(SubRegionGap(
                child,
                off_track=sum(s.assessment.status in ("off_track", "not_met") for s in statuses),
                regressing=sum(s.assessment.status == "regressing" for s in statuses),
                accelerate=sum(s.assessment.status == "accelerate" for s in statuses),
                gap=round(sum(max(0.0, 1 - (s.assessment.progress or 0.0)) for s in bad), 2)))
        return sorted(out, key=lambda g: (-g.gap, g.region.code))

    def numbers(self) -> list[tuple]:
        """Every number the report prints, for 'a rebuild is identical in its numbers'."""
        out = []
        for code, rows in [(self.region.code, self.rows)] + sorted(self.children.items()):
            for r in rows:
                a = r.assessment
                out.append((code, r.indicator.code, a.status, a.value, a.target, a.expected, a.baseline,
                            a.progress, a.projection, r.current))
        return out


def _view(store: Store, as_of: int | str | None) -> Store:
    """The store as it was right after snapshot ``as_of`` (an id, or a date/time) was published."""
    if as_of is None or as_of == "":
        return store
    at = getattr(store, "at", None)
    if at is None:
        raise ReportError("report_err_asof", snap=as_of, error="this store has no as-of reads")
    text = str(as_of).strip()
    try:
        return at(**({"snapshot": int(text)} if text.isdigit() else {"when": text}))
    except (ValueError, KeyError, LookupError, RuntimeError) as exc:
        raise ReportError("report_err_asof", snap=as_of, error=str(exc)) from exc


def report_data(store: Store, region: str | None, period: str | None, plan_id: str | None,
                as_of: int | str | None = None, today: dt.date | None = None) -> ReportData:
    """Read everything the report shows for a region at a quarter under a plan (defaults as ``status``)."""
    view = _view(store, as_of)
    h = view.hierarchy
    region = region or h.root.code
    if region not in h:
        raise ReportError("report_err_region", code=region)
    if plan_id and plan_id not in view.catalog.plans:
        raise ReportError("report_err_plan", plan=plan_id, plans=", ".join(view.catalog.plans))
    plan, period = query.resolve_plan(view, plan_id, period)
    if plan is None or period is None:
        raise ReportError("report_err_nodata")
    codes = [region] + [c.code for c in h.children(region)]
    assessed = query.assess_many(view, codes, period, plan)
    rows = assessed.pop(region)
    live = [s for s in view.snapshots() if not s.retracted]   # an as-of view lists them as they were then
    snaps = query.provenance_many(view, region, period, [r.indicator.code for r in rows])   # one query
    provenance = {code: snap.id if snap is not None else None for code, snap in snaps.items()}
    used = {sid for sid in provenance.values() if sid is not None}
    benchmarks = {r.indicator.code: query.benchmark_series(view, region, r.target.benchmark)
                  for r in rows if r.target is not None and r.target.kind == "relative"}
    citations = []
    for r in rows:
        for t in [r.target] + [t for t, _ in r.other_targets] if r.target is not None else []:
            citations.append(Citation(r.indicator.code, t, view.catalog.documents.get(t.source.get("document") or "")))
    return ReportData(
        region=h[region], path=h.path(region), period=period, plan=plan,
        generated=today or dt.date.today(), version=view.version(),
        snapshot=live[-1] if live else None,
        as_of=as_of, demo=any(s.demo for s in live), rows=rows, children=assessed,
        child_regions=h.children(region), benchmarks=benchmarks, provenance=provenance,
        snapshots=[s for s in live if s.id in used], citations=citations)
