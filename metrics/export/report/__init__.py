"""The assessment report: data (``data.py``) → content blocks (``content.py``) → DOCX or PDF.

``build_report`` makes one file; ``build_children_zip`` makes one per sub-region (the townships
of a county) into a ZIP. Both report progress through ``progress(fraction, message)``.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable

from metrics import i18n
from metrics.export import charts
from metrics.export.report.content import SECTIONS, Figure, build_blocks, period_label
from metrics.export.report.data import ReportData, ReportError, report_data
from metrics.store import Store

FORMATS = ("docx", "pdf")
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pdf": "application/pdf", "zip": "application/zip"}
Progress = Callable[[float, str], None]

__all__ = ["FORMATS", "MIME", "SECTIONS", "ReportData", "ReportError", "build_children_zip", "build_report",
           "file_name", "render", "report_data"]


def _quiet(fraction: float, message: str) -> None:
    pass


def render(data: ReportData, fmt: str, lang: str = "zh", sections=SECTIONS,
           progress: Progress = _quiet) -> bytes:
    """One report file (DOCX or PDF) from its data; charts as PNG in DOCX, SVG in PDF."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}: {fmt!r}")
    blocks = build_blocks(data, lang, sections)
    figs = [(i, b) for i, b in enumerate(blocks) if isinstance(b, Figure)]
    images: dict[int, bytes] = {}
    image_fmt = "png" if fmt == "docx" else "svg"
    for n, (i, fig) in enumerate(figs, start=1):
        progress(0.1 + 0.75 * (n - 1) / max(len(figs), 1), i18n.tr("report_progress_chart", lang, i=n, n=len(figs)))
        images[i] = charts.chart_bytes(fig.fig, image_fmt, title=fig.title, trace=fig.trace, height=fig.height,
                                       scale=2 if fmt == "docx" else 1)
    progress(0.88, i18n.tr("report_progress_write", lang))
    if fmt == "docx":
        from metrics.export.report.docx import write_docx
        out = write_docx(blocks, images, lang)
    else:
        from metrics.export.report.pdf import write_pdf
        running = f"{i18n.region_name(data.region, lang)} · {period_label(data.period, lang)} · {data.version_label}"
        out = write_pdf(blocks, images, lang, running)
    progress(1.0, i18n.tr("report_done", lang))
    return out


def build_report(store: Store, region: str | None, period: str | None, plan_id: str | None, fmt: str,
                 lang: str = "zh", as_of: int | str | None = None, sections=SECTIONS, progress: Progress = _quiet,
                 today: dt.date | None = None) -> tuple[ReportData, bytes]:
    progress(0.0, i18n.tr("report_progress_data", lang))
    data = report_data(store, region, period, plan_id, as_of=as_of, today=today)
    return data, render(data, fmt, lang, sections, progress)


def file_name(data: ReportData, fmt: str, lang: str = "zh") -> str:
    """'示范旗（演示）_990121000000_2026Q3_评估报告.pdf' — no path characters."""
    word = "评估报告" if lang == "zh" else "assessment"
    name = f"{i18n.region_name(data.region, lang)}_{data.region.code}_{data.period}_{word}"
    safe = "".join(c if c.isalnum() or c in "-_（）()" else "_" for c in name)
    return f"{safe}.{fmt}"


def build_children_zip(store: Store, region: str | None, period: str | None, plan_id: str | None, fmt: str,
                       lang: str = "zh", as_of: int | str | None = None, sections=SECTIONS,
                       progress: Progress = _quiet, today: dt.date | None = None) -> bytes:
    """A ZIP with the report of every child region (every township of a county)."""
    view_region = region or store.hierarchy.root.code
    if view_region not in store.hierarchy:
        raise ReportError("report_err_region", code=view_region)
    kids = store.hierarchy.children(view_region)
    if not kids:
        raise ReportError("report_err_children", code=view_region)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, child in enumerate(kids):
            label = i18n.tr("report_progress_child", lang, name=i18n.region_name(child, lang), i=k + 1, n=len(kids))

            def step(fraction: float, message: str, k: int = k, label: str = label) -> None:
                progress((k + fraction) / len(kids), f"{label} · {message}")

            data, body = build_report(store, child.code, period, plan_id, fmt, lang, as_of, sections, step, today)
            zf.writestr(file_name(data, fmt, lang), body)
    progress(1.0, i18n.tr("report_done", lang))
    return buf.getvalue()
