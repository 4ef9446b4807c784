"""Charts and tables with their exports — every page draws them through these two helpers.

``st_chart`` shows a plotly figure with an export menu (PNG at print resolution, SVG, PDF,
rendered server-side by metrics.export); ``st_table`` shows a table with XLSX/CSV downloads.
``trace`` names what the exported file shows (region, period, snapshot) so a pasted chart can
be traced. Owned by the export work; the leadership pages only call these.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages import common


def st_chart(fig: go.Figure, *, key: str, lang: str, trace: dict | None = None, **plotly_kwargs):
    """Draw ``fig`` (returns what st.plotly_chart returns, e.g. selection events)."""
    return st.plotly_chart(fig, key=key, **plotly_kwargs)


def st_table(frame: pd.DataFrame, *, stem: str, lang: str, **dataframe_kwargs) -> None:
    """Draw ``frame`` and offer it as XLSX and CSV."""
    st.dataframe(frame, **dataframe_kwargs)
    common.st_table_downloads(frame, stem, lang)
