"""Drawing helpers shared by the analyst pages (数据上传, 目标管理, 数据版本). Core calls only."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import i18n
from metrics.i18n import tr
from pages import widgets

ISSUE_LABELS = {"zh": {"sheet": "工作表", "row": "行号", "column": "列", "code": "代码", "message": "说明"},
                "en": {"sheet": "Sheet", "row": "Row", "column": "Column", "code": "Code", "message": "Message"}}
MAX_SHOWN = 500


def issues_frame(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Findings as the user reads them (sheet column only for workbooks)."""
    msg = "message_en" if lang == "en" else "message"
    out = frame[["sheet", "row", "column", "code", msg]].rename(columns={msg: "message"})
    if not out["sheet"].astype(bool).any():
        out = out.drop(columns=["sheet"])
    return out.rename(columns=ISSUE_LABELS["en" if lang == "en" else "zh"])


def st_issues(frame: pd.DataFrame, title_key: str, stem: str, lang: str) -> None:
    if frame.empty:
        return
    st.subheader(f"{tr(title_key, lang)}（{len(frame)}）" if lang != "en" else f"{tr(title_key, lang)} ({len(frame)})")
    widgets.st_table(issues_frame(frame.head(MAX_SHOWN), lang), stem=stem, lang=lang, hide_index=True,
                     width="stretch")


def status_moves_frame(moves: pd.DataFrame, lang: str) -> pd.DataFrame:
    labels = {"zh": ["地区", "指标", "季度", "发布前", "发布后"], "en": ["Region", "Indicator", "Quarter", "Before", "After"]}
    out = pd.DataFrame({
        "region": moves["region"], "indicator": moves["indicator"], "period": moves["period"],
        "before": moves["before"].map(lambda s: i18n.status_label(s, lang)),
        "after": moves["after"].map(lambda s: i18n.status_label(s, lang))})
    out.columns = labels["en" if lang == "en" else "zh"]
    return out


def st_counts(counts: dict[str, int], lang: str, rows_read: int | None = None) -> None:
    keys = ([("rows_read", rows_read)] if rows_read is not None else []) + [
        ("n_new", counts["new"]), ("n_changed", counts["changed"]), ("n_unchanged", counts["unchanged"]),
        ("n_ignored", counts["ignored"])]
    for col, (key, n) in zip(st.columns(len(keys)), keys):
        col.metric(tr(key, lang), f"{n:,}")
