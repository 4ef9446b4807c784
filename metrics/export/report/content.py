"""The report's content as a list of blocks, in one language — shared by the DOCX and PDF writers.

``build_blocks(data, lang, sections)`` decides every word, number and chart; the writers only
lay the blocks out. So both formats carry the same content by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go

from metrics import charts, i18n, periods, progress
from metrics.catalog import PILLAR_ORDER
from metrics.export.report.data import ReportData
from metrics.i18n import tr
from metrics.query import IndicatorStatus
from metrics.reasons import number_text, percent_text, reason_text

SECTIONS = ("summary", "table", "pillars", "lagging", "method", "appendix")
PATHS_PER_PILLAR = 3        # target-path charts per pillar: its worst lagging indicators
PATH_HEIGHT = 300           # px before the title: two charts and their titles fit an A4 page


@dataclass
class Cover:
    title: str
    subtitle: str
    fields: list[tuple[str, str]]
    notes: list[str]


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str
    kind: str = "body"          # body | headline | note | lead (kept with what follows)


@dataclass
class Group:
    """A spanning row inside a table (a pillar's name)."""
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str] | Group]
    widths: list[float]         # relative column widths
    numeric: list[bool]         # right-aligned columns
    statuses: list[str | None] = field(default_factory=list)   # per row, for the status cell's colour
    status_col: int | None = None


@dataclass
class Figure:
    fig: go.Figure
    title: str
    trace: str
    height: int | None = None   # None: the figure's own height plus room for the title


@dataclass
class PageBreak:
    pass


Block = Cover | Heading | Para | Table | Figure | PageBreak


def fmt(value: float | None, decimals: int = 1) -> str:
    """A number as the method rounds it (so the figure a reader sees agrees with the status)."""
    return number_text(value, decimals)


def pct(p: float | None) -> str:
    """Progress as a percentage of what is due (0.84 → 84%), as the reasons say it."""
    return percent_text(p)


def period_label(period: str, lang: str) -> str:
    return period if lang == "en" else periods.label_zh(period)


def reason(row: IndicatorStatus, lang: str) -> str:
    """The status's one-line reason, in the method's own words."""
    return reason_text(row.assessment, lang, decimals=row.indicator.decimals)


def _indicator_name(row: IndicatorStatus, lang: str) -> str:
    name = i18n.name(row.indicator, lang)
    if row.target is not None and row.target.kind == "milestones":
        name += i18n.paren(tr("cumulative", lang), lang)
    return name


def _value(row: IndicatorStatus) -> float | None:
    return row.assessment.value if row.assessment.value is not None else row.current


def _trace(data: ReportData, lang: str) -> str:
    from metrics.export.charts import trace_line
    return trace_line(i18n.region_name(data.region, lang), data.period, data.version_label, lang)


def cover(data: ReportData, lang: str) -> Cover:
    snap = data.snapshot
    snap_text = "—" if snap is None else tr("report_snapshot_value", lang, version=data.version_label, id=snap.id,
                                             when=snap.created_at[:16].replace("T", " "))
    if data.as_of is not None:
        snap_text += tr("report_as_of", lang)
    region_path = " › ".join(i18n.region_name(r, lang) for r in data.path)
    notes = []
    if data.demo:
        notes.append(tr("report_demo", lang))
    if data.plan.illustrative:
        notes.append(tr("report_illustrative", lang))
    return Cover(
        title=tr("report_title", lang, region=i18n.region_name(data.region, lang)),
        subtitle=tr("report_subtitle", lang, period=period_label(data.period, lang), plan=i18n.name(data.plan, lang)),
        fields=[(tr("region", lang), f"{region_path}（{data.region.code}）" if lang == "zh" else f"{region_path} ({data.region.code})"),
                (tr("quarter", lang), period_label(data.period, lang)),
                (tr("plan", lang), i18n.name(data.plan, lang)),
                (tr("report_generated", lang), data.generated.isoformat()),
                (tr("report_snapshot", lang), snap_text)],
        notes=notes)


def headline(data: ReportData, lang: str) -> str:
    counts = data.status_counts()
    n_target = sum(n for s, n in counts.items() if s != "no_target")
    parts = [tr("report_headline_part", lang, status=i18n.status_label(s, lang, icon=False), n=n)
             for s, n in counts.items() if s != "no_target"]
    sep = "、" if lang == "zh" else ", "
    text = tr("report_headline", lang, period=period_label(data.period, lang), region=i18n.region_name(data.region, lang),
              n_target=n_target, parts=sep.join(parts) if parts else "—")
    lagging = data.lagging()
    text += " " if lang == "en" else ""
    text += (tr("report_headline_watch", lang, names=sep.join(i18n.name(r.indicator, lang) for r in lagging[:3]))
             if lagging else tr("report_headline_none_lagging", lang))
    if counts.get("no_target"):
        text += (" " if lang == "en" else "") + tr("report_headline_no_target", lang, n=counts["no_target"])
    return text


def summary(data: ReportData, lang: str) -> list[Block]:
    counts = data.status_counts()
    total = sum(counts.values()) or 1
    rows: list[list[str] | Group] = [[i18n.status_label(s, lang), str(n), f"{n / total:.0%}"] for s, n in counts.items()]
    return [Heading(1, tr("report_sec_summary", lang)), Para(headline(data, lang), "headline"),
            Table([tr("status", lang), tr("report_count_col", lang), tr("report_share_col", lang)], rows, [3, 1, 1],
                  [False, True, True], statuses=list(counts), status_col=0)]


def indicator_table(data: ReportData, lang: str) -> Table:
    header = [tr("indicator", lang), tr("export_col_unit", lang), tr("value", lang), tr("target", lang),
              tr("expected", lang), tr("progress", lang), tr("status", lang), tr("export_col_reason", lang)]
    rows: list[list[str] | Group] = []
    statuses: list[str | None] = []
    for pillar in PILLAR_ORDER:
        group = [r for r in data.rows if r.indicator.pillar == pillar]
        if not group:
            continue
        rows.append(Group(i18n.pillar_name(pillar, lang)))
        statuses.append(None)
        for r in group:
            a, d = r.assessment, r.indicator.decimals
            target = fmt(a.target, d) + (f"（{r.target.target_period[:4]}）" if lang == "zh" and r.target
                                         else f" ({r.target.target_period[:4]})" if r.target else "")
            rows.append([_indicator_name(r, lang), i18n.unit(r.indicator, lang) or "—", fmt(_value(r), d),
                         target if a.target is not None else "—", fmt(a.expected, d), pct(a.progress),
                         i18n.status_label(a.status, lang), reason(r, lang)])
            statuses.append(a.status)
    widths = [2.85, 0.75, 1.0, 1.75, 1.0, 0.75, 1.3, 3.0] if lang == "zh" else [2.8, 0.95, 0.95, 1.6, 1.0, 0.8, 1.9, 2.6]
    return Table(header, rows, widths, [False, False, True, True, True, True, False, False],
                 statuses=statuses, status_col=6)


def _heatmap(data: ReportData, group: list[IndicatorStatus], lang: str) -> go.Figure | None:
    if not data.child_regions:
        return None
    codes = [r.indicator.code for r in group]
    statuses, hover = [], []
    for child in data.child_regions:
        by_code = {s.indicator.code: s for s in data.children.get(child.code, [])}
        statuses.append([by_code[c].assessment.status if c in by_code else "no_data" for c in codes])
        hover.append([i18n.status_label(st, lang) for st in statuses[-1]])
    fig = charts.heatmap_figure([i18n.region_name(c, lang) for c in data.child_regions],
                                [i18n.name(r.indicator, lang) for r in group], statuses, hover, lang)
    return fig.update_layout(height=max(170, 30 * len(group) + 120))   # on paper: rows, not a square


def pillars(data: ReportData, lang: str) -> list[Block]:
    out: list[Block] = [Heading(1, tr("report_sec_pillars", lang))]
    trace = _trace(data, lang)
    lagging = data.lagging()
    for pillar in PILLAR_ORDER:
        group = [r for r in data.rows if r.indicator.pillar == pillar]
        if not group:
            continue
        name = i18n.pillar_name(pillar, lang)
        out.append(Heading(2, name))
        counts: dict[str, int] = {}
        for r in group:
            counts[r.assessment.status] = counts.get(r.assessment.status, 0) + 1
        sep = "、" if lang == "zh" else ", "
        out.append(Para(tr("n_indicators", lang, n=len(group)) + i18n.colon(lang) + sep.join(
            tr("report_headline_part", lang, status=i18n.status_label(s, lang, icon=False), n=counts[s])
            for s in i18n.STATUS_ORDER if s in counts), "lead"))
        heat = _heatmap(data, group, lang)
        if heat is not None:
            out.append(Figure(heat, tr("report_pillar_heatmap", lang, pillar=name), trace))
        worst = [r for r in lagging if r.indicator.pillar == pillar][:PATHS_PER_PILLAR]
        if not worst:
            out.append(Para(tr("report_pillar_none", lang), "note"))
        for r in worst:
            fig = charts.target_path_figure(r, data.plan.base, lang, benchmark=data.benchmarks.get(r.indicator.code))
            fig.update_layout(height=PATH_HEIGHT)
            out.append(Figure(fig, tr("report_pillar_path", lang, name=i18n.name(r.indicator, lang)), trace))
    return out


def lagging(data: ReportData, lang: str) -> list[Block]:
    out: list[Block] = [Heading(1, tr("report_sec_lagging", lang)), Heading(2, tr("report_lagging_ind", lang))]
    rows = data.lagging()
    if rows:
        out.append(Table(
            [tr("indicator", lang), tr("value", lang), tr("expected", lang), tr("target", lang), tr("progress", lang),
             tr("status", lang), tr("department", lang)],
            [[_indicator_name(r, lang), fmt(_value(r), r.indicator.decimals), fmt(r.assessment.expected, r.indicator.decimals),
              fmt(r.assessment.target, r.indicator.decimals), pct(r.assessment.progress),
              i18n.status_label(r.assessment.status, lang),
              r.indicator.department_en if lang == "en" else r.indicator.department_zh] for r in rows],
            [3, 1.1, 1.1, 1.1, 0.8, 1.3, 2.2], [False, True, True, True, True, False, False],
            statuses=[r.assessment.status for r in rows], status_col=5))
    else:
        out.append(Para(tr("report_no_lagging", lang), "note"))
    out.append(Heading(2, tr("report_lagging_reg", lang)))
    gaps = data.subregion_gaps()
    if not gaps:
        out.append(Para(tr("report_no_children", lang), "note"))
        return out
    out.append(Table(
        [tr("region_col", lang), i18n.status_label("off_track", lang), i18n.status_label("regressing", lang),
         i18n.status_label("accelerate", lang), tr("gap", lang)],
        [[i18n.region_name(g.region, lang), str(g.off_track), str(g.regressing), str(g.accelerate), f"{g.gap:.2f}"]
         for g in gaps],
        [3, 1.3, 1.3, 1.3, 1], [False, True, True, True, True]))
    return out


def method(data: ReportData, lang: str) -> list[Block]:
    out: list[Block] = [Heading(1, tr("report_sec_method", lang)), Heading(2, tr("provenance", lang)),
                        Para(tr("report_prov_intro", lang))]
    out.append(Table(
        [tr("snapshot", lang), tr("uploaded", lang), tr("uploaded_by", lang), tr("file", lang), tr("report_prov_rows", lang)],
        [[f"#{s.id}", s.created_at[:16].replace("T", " "), s.user, s.source_name, f"{s.rows:,}"] for s in data.snapshots],
        [0.8, 1.6, 1.2, 3, 1], [False, False, False, False, True]))
    out.append(Heading(2, tr("report_method_title", lang)))
    out.append(Para(tr("report_method_text", lang, on_track=progress.ON_TRACK, accelerate=progress.ACCELERATE)))
    return out


def appendix(data: ReportData, lang: str) -> list[Block]:
    rows: list[list[str] | Group] = []
    for c in data.citations:
        doc = c.document
        title = "—" if doc is None else (doc.title_en if lang == "en" else doc.title_zh)
        ind = data.rows[[r.indicator.code for r in data.rows].index(c.indicator_code)].indicator
        quote = c.target.source.get("quote_zh") or ""
        rows.append([i18n.name(ind, lang), c.target.target_period[:4], title, c.target.source.get("clause") or "—",
                     f"「{quote}」" if quote else "—"])
    return [Heading(1, tr("report_sec_appendix", lang)), Para(tr("report_appendix_intro", lang)),
            Table([tr("indicator", lang), tr("export_col_target_year", lang), tr("document", lang), tr("clause", lang),
                   tr("quote", lang)], rows, [2.2, 0.8, 2.6, 1, 3.4], [False, False, False, False, False])]


def build_blocks(data: ReportData, lang: str = "zh", sections: tuple[str, ...] | list[str] = SECTIONS) -> list[Block]:
    """The whole report, section by section, in ``lang``."""
    blocks: list[Block] = [cover(data, lang), PageBreak()]
    if "summary" in sections:
        blocks += summary(data, lang)
    if "table" in sections:
        blocks += [Heading(1, tr("report_sec_table", lang)), indicator_table(data, lang)]
    if "pillars" in sections:
        blocks += [PageBreak()] + pillars(data, lang)
    if "lagging" in sections:
        blocks += [PageBreak()] + lagging(data, lang)
    if "method" in sections:
        blocks += method(data, lang)
    if "appendix" in sections and data.citations:
        blocks += [PageBreak()] + appendix(data, lang)
    return blocks


def figures(blocks: list[Block]) -> list[Figure]:
    return [b for b in blocks if isinstance(b, Figure)]
