"""Charts and tables with their exports — every page draws them through these two helpers.

``st_chart`` shows a plotly figure with an export menu (PNG at print resolution, SVG, PDF,
rendered server-side by metrics.export only when the user clicks); ``st_static_chart`` shows
a chart drawn as HTML/SVG in Python (no plotly.js to load) with the same menu, the plotly
figure built only when an export is asked for; ``st_table`` shows a table with XLSX/CSV
downloads, built on click too (``static=True``: a plain HTML table, no data grid to load). ``trace`` names what an exported chart shows —
``{"title": …, "region": region name, "period": "2026Q3", "snapshot": store version}`` — so a
pasted chart can be traced. Owned by the export work; the leadership pages only call these.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.export import charts, tables
from metrics.i18n import tr
from pages import common

FigureOrBuilder = go.Figure | Callable[[], go.Figure]


def _chart_renderer(fig: FigureOrBuilder, fmt: str, title: str | None, trace_text: str | None):
    def render() -> bytes:
        figure = fig if isinstance(fig, go.Figure) else fig()
        return charts.chart_bytes(figure, fmt, title=title, trace=trace_text)
    return render


def st_chart_export(fig: FigureOrBuilder, *, key: str, lang: str, trace: dict | None = None) -> None:
    """The export menu under a chart: nothing is rendered until a format is clicked.

    ``fig``: the figure, or a function that builds it (called only when a format is clicked).
    """
    trace = trace or {}
    title = trace.get("title")
    trace_text = charts.trace_line(trace["region"], trace.get("period"), trace.get("snapshot"), lang) \
        if trace.get("region") else None
    stem = "_".join(str(p) for p in (title or key, trace.get("region"), trace.get("period")) if p)
    with st.popover(tr("export_chart", lang), icon=":material/download:"):
        reason = charts.unavailable_reason(lang)
        if reason:
            st.warning(reason)
            return
        st.caption(tr("export_hint", lang))
        cols = st.columns(len(charts.FORMATS))
        for col, fmt in zip(cols, charts.FORMATS):
            col.download_button(tr(f"export_dl_{fmt}", lang), _chart_renderer(fig, fmt, title, trace_text),
                                file_name=charts.file_name(stem, fmt), mime=charts.MIME[fmt],
                                key=f"export_{key}_{fmt}", on_click="ignore")


def st_chart(fig: go.Figure, *, key: str, lang: str, trace: dict | None = None, **plotly_kwargs):
    """Draw ``fig`` (returns what st.plotly_chart returns, e.g. selection events) with its export menu."""
    plotly_kwargs.setdefault("config", {"displaylogo": False})
    result = st.plotly_chart(fig, key=key, **plotly_kwargs)
    st_chart_export(fig, key=key, lang=lang, trace=trace)
    return result


def st_static_chart(markup: str, build: Callable[[], go.Figure], *, key: str, lang: str,
                    trace: dict | None = None) -> None:
    """Draw a chart made as HTML/SVG in Python, with the export menu of its plotly figure
    (``build`` is called only when an export format is clicked).

    Through st.markdown, not st.html: st.html's sanitiser keeps HTML only and drops the SVG.
    """
    st.markdown(f'<div class="rr-static-chart">{markup}</div>', unsafe_allow_html=True)
    st_chart_export(build, key=key, lang=lang, trace=trace)


def figures_html(figures: list[tuple[str, str, str | None, str | None]]) -> str:
    """Headline figures side by side, as st.metric shows them but in one HTML block:
    (label, value, delta line or None, help text or None) each."""
    cells = []
    for label, value, delta, help_text in figures:
        tip = "" if not help_text else \
            f' <span class="rr-help" title="{html.escape(help_text)}" aria-label="{html.escape(help_text)}">ⓘ</span>'
        cells.append(f'<div class="rr-figure"><div class="rr-figure-label">{html.escape(label)}{tip}</div>'
                     f'<div class="rr-figure-value">{html.escape(value)}</div>'
                     + (f'<div class="rr-figure-delta">{html.escape(delta)}</div>' if delta else "") + "</div>")
    return f'<div class="rr-figures">{"".join(cells)}</div>'


def _cell(v) -> str:
    """A table cell's text, escaped; a line may break after a slash (71,326 yuan/<wbr>person on a phone)."""
    return html.escape("—" if pd.isna(v) else str(v)).replace("/", "/<wbr>")


def table_html(frame: pd.DataFrame) -> str:
    """A table only to be read, as plain HTML (numbers right-aligned, text escaped)."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = "".join(f'<th{" class=rr-num" if num else ""}>{html.escape(str(c))}</th>'   # aligned as its numbers
                   for c, num in zip(frame.columns, numeric))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=rr-num" if num else ""}>{_cell(v)}</td>'
                         for v, num in zip(row, numeric)) + "</tr>"
        for row in frame.itertuples(index=False))
    return f'<div class="rr-table-wrap"><table class="rr-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def export_frame(frame: pd.DataFrame, lang: str, regions: list[str] | None = None,
                 region_col: str | None = None) -> pd.DataFrame:
    """What the downloads hold: statuses as words, and the region hierarchy as columns when known."""
    out = tables.plain_statuses(frame)
    if regions is not None and len(regions) == len(frame):
        out = tables.with_regions(out, regions, common.store().hierarchy, lang, drop=region_col)
    return out


def st_table(frame: pd.DataFrame, *, stem: str, lang: str, regions: list[str] | None = None,
             region_col: str | None = None, static: bool = False, **dataframe_kwargs) -> None:
    """Draw ``frame`` and offer it as XLSX and CSV (built on click).

    ``regions``: the region code of each row — the downloads then carry the hierarchy as columns
    (replacing the name column ``region_col``). Put units in the column names (值（%）).
    ``static``: a table that is only read (no sorting or scrolling needed) goes out as plain
    HTML, which the browser draws at once instead of loading the data grid.
    """
    if static:
        st.html(table_html(frame))
    else:
        dataframe_kwargs.setdefault("hide_index", True)
        st.dataframe(frame, **dataframe_kwargs)
    data = lambda: export_frame(frame, lang, regions, region_col)  # noqa: E731  (built on click)
    name = charts.file_name(stem, "x").removesuffix(".x")
    c1, c2 = st.columns(2)
    c1.download_button(tr("download_xlsx", lang), lambda: tables.to_xlsx(data(), sheet=stem), file_name=f"{name}.xlsx",
                       mime=tables.XLSX_MIME, key=f"xlsx_{stem}", on_click="ignore", icon=":material/table_view:")
    c2.download_button(tr("download_csv", lang), lambda: tables.to_csv(data()), file_name=f"{name}.csv",
                       mime=tables.CSV_MIME, key=f"csv_{stem}", on_click="ignore", icon=":material/csv:")
