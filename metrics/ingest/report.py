"""The validation report: errors and warnings as frames (one row per finding), built column-wise.

Every finding has the Excel row number, the sheet, the column label, a stable code and a message
in Chinese and English (templates in ``metrics.ingest.text``, filled without a per-row loop).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.export.tables import neutralise  # one formula-injection rule for every download
from metrics.ingest.text import TEXT

ISSUE_COLUMNS = ["sheet", "row", "column", "code", "message", "message_en"]
ERROR_CODES = ("unknown_region", "ambiguous_region_name", "unknown_element", "bad_period", "future_period",
               "not_a_number", "negative_value", "rate_out_of_range", "numerator_exceeds_denominator",
               "duplicate_row", "missing_column", "period_locked")
WARNING_CODES = ("large_change", "decreasing_cumulative", "skipped_totals_row")
_PLACEHOLDER = re.compile(r"(\{\w+\})")


def _as_text(values, n: int) -> pd.Series:
    """Cell values as message text: each distinct value formatted once (a warning column of 10⁶
    rows holds far fewer distinct numbers), then spread back over the rows."""
    if isinstance(values, pd.Series):
        codes, uniques = pd.factorize(values.reset_index(drop=True).astype(object), use_na_sentinel=True)
        text = np.array([_fmt_cell(u) for u in uniques] + [""], dtype=object)
        return pd.Series(text[codes], dtype=object)
    return pd.Series([_fmt_cell(values)] * n, dtype=object)


def _fmt_cell(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.10g}" if abs(v) >= 1e4 else f"{v:.10g}"
    return str(v)


def fill(template: str, n: int, _texts: dict | None = None, **values) -> pd.Series:
    """``template`` with ``{name}`` replaced by each row of ``values[name]`` (Series or scalar).
    ``_texts``: values already formatted (by name), shared between the two languages' messages."""
    texts = {} if _texts is None else _texts
    out = pd.Series([""] * n, dtype=object)
    for part in _PLACEHOLDER.split(template):
        name = part[1:-1]
        if part.startswith("{") and part.endswith("}") and name in values:
            if name not in texts:
                texts[name] = _as_text(values[name], n)
            out = out + texts[name]
        elif part:
            out = out + part
    return out


def issues(code: str, *, row, column, sheet="", key: str | None = None, **values) -> pd.DataFrame:
    """Findings of one code: ``row`` (list-like) and ``column``/``sheet``/message values (Series or scalar)."""
    n = len(row)
    zh, en = TEXT[key or f"msg_{code}"]
    texts: dict[str, pd.Series] = {}      # each value column formatted once for both languages
    frame = pd.DataFrame({
        "sheet": _as_text(sheet, n) if isinstance(sheet, pd.Series) else [sheet] * n,
        "row": np.asarray(row, dtype=np.int64),
        "column": _as_text(column, n),
        "code": [code] * n,
        "message": fill(zh, n, texts, **values),
        "message_en": fill(en, n, texts, **values),
    })
    return frame


def empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "row" else object) for c in ISSUE_COLUMNS})


def concat_issues(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_issues()
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["sheet", "row", "code"], kind="stable").reset_index(drop=True)


@dataclass
class Report:
    """What validating one file found. ``facts`` holds the values that would be published."""
    source_name: str
    sha256: str
    layout: str = ""
    rows_read: int = 0
    facts: pd.DataFrame = field(default_factory=pd.DataFrame)      # region_code, element_code, period (categorical), value, row, sheet, column, key
    errors: pd.DataFrame = field(default_factory=empty_issues)
    warnings: pd.DataFrame = field(default_factory=empty_issues)
    ignored: int = 0
    fatal: str | None = None          # a file that could not be read: one message, nothing else
    fatal_en: str | None = None
    current: object = None   # the store's current values around the file (validate.KeyTable: .get(keys)), for the dry run

    @property
    def ok(self) -> bool:
        return self.fatal is None and self.errors.empty

    @property
    def rows_valid(self) -> int:
        return 0 if not self.ok else int(len(self.facts))

    def codes(self) -> list[str]:
        return sorted(set(self.errors["code"]))

    def issue_list(self, frame: pd.DataFrame, lang: str = "zh") -> list[dict]:
        msg = "message_en" if lang == "en" else "message"
        return [{"row": int(r), "sheet": s, "column": c, "code": k, "message": m}
                for s, r, c, k, m in zip(frame["sheet"], frame["row"], frame["column"], frame["code"], frame[msg])]

    def to_dict(self, lang: str = "zh") -> dict:
        errors = self.issue_list(self.errors, lang)
        if self.fatal is not None:
            errors = [{"row": 0, "sheet": "", "column": "", "code": "unreadable_file",
                       "message": self.fatal_en if lang == "en" else self.fatal}] + errors
        return {"ok": self.ok, "file": self.source_name, "sha256": self.sha256, "layout": self.layout,
                "rows_read": self.rows_read, "rows_valid": self.rows_valid, "errors": errors,
                "warnings": self.issue_list(self.warnings, lang)}

    def to_xlsx(self, lang: str = "zh") -> bytes:
        """The report as a workbook: errors and warnings sheets (cells neutralised)."""
        buf = io.BytesIO()
        labels = {"zh": ["工作表", "行号", "列", "代码", "说明"], "en": ["Sheet", "Row", "Column", "Code", "Message"]}[
            "en" if lang == "en" else "zh"]
        msg = "message_en" if lang == "en" else "message"
        with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
            for name, frame in ((TEXT["errors"][lang == "en"], self.errors),
                                (TEXT["warnings"][lang == "en"], self.warnings)):
                out = frame[["sheet", "row", "column", "code", msg]].copy()
                out.columns = labels
                neutralise(out).to_excel(xw, sheet_name=name, index=False)
            if self.fatal:
                pd.DataFrame({labels[4]: [self.fatal_en if lang == "en" else self.fatal]}).to_excel(
                    xw, sheet_name="file", index=False)
        return buf.getvalue()
