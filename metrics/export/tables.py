"""Table export: a DataFrame in, XLSX or CSV bytes out.

CSV is UTF-8 with a BOM so Excel opens the Chinese correctly; XLSX keeps numbers as numbers,
bold frozen headers and sensible column widths. Text cells that a spreadsheet would run as a
formula (starting with = + - @, tab or carriage return) are neutralised with a leading quote.
``region_columns`` turns region codes into the hierarchy as columns (county, township, village).
"""

from __future__ import annotations

import io
import re

import pandas as pd

from metrics import i18n
from metrics.regions import LEVELS, Hierarchy

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
_PLAIN_NUMBER = re.compile(r"^(?=.*\d)[+-]?(\d{1,3}(,\d{3})+|\d*)(\.\d+)?%?$")   # "-1,234.5" is a number, not a formula


def neutralise_cell(value: object) -> object:
    """'=1+1' → "'=1+1" (formula injection); everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot run as formulas."""
    out = frame.copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with BOM (Excel reads the BOM as 'this is UTF-8')."""
    return neutralise(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame, sheet: str = "Sheet1") -> bytes:
    """XLSX with a bold, frozen header row; numbers stay numbers; nothing is read as a formula."""
    safe = neutralise(frame)
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        name = "".join(c for c in sheet if c not in "[]:*?/\\")[:31] or "Sheet1"
        safe.to_excel(writer, sheet_name=name, index=False)
        book, ws = writer.book, writer.sheets[name]
        header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EEEEEE",
                                  "border": 1})
        for j, col in enumerate(safe.columns):
            ws.write_string(0, j, str(col), header)
            width = max([_display_width(col)] + [_display_width(v) for v in safe[col].head(200)])
            ws.set_column(j, j, min(max(width + 2, 8), 60))
        ws.freeze_panes(1, 0)
    return buf.getvalue()


def _display_width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def region_columns(codes: list[str], hierarchy: Hierarchy, lang: str = "zh", below: str | None = None) -> pd.DataFrame:
    """One column per hierarchy level (names) plus the code, for each region code.

    Levels above ``below`` (the region the table is about) are left out when every row shares
    them; a table of a county's townships reads 县（旗） | 乡镇（苏木） | 代码.
    """
    rows = []
    for code in codes:
        row: dict[str, str] = {}
        if code in hierarchy:
            for r in hierarchy.path(code):
                row[r.level] = i18n.region_name(r, lang)
        rows.append(row)
    levels = [lv for lv in LEVELS if any(lv in r for r in rows)]
    if below is not None and below in hierarchy:
        keep_from = LEVELS.index(hierarchy[below].level)
        levels = [lv for lv in levels if LEVELS.index(lv) >= keep_from]
    frame = pd.DataFrame({i18n.level_name(lv, lang): [r.get(lv, "") for r in rows] for lv in levels})
    frame[i18n.tr("export_col_code", lang)] = list(codes)
    return frame


def with_regions(frame: pd.DataFrame, codes: list[str], hierarchy: Hierarchy, lang: str = "zh",
                 below: str | None = None, drop: str | None = None) -> pd.DataFrame:
    """``frame`` with the hierarchy columns in front (and its own region-name column ``drop`` removed)."""
    body = frame.drop(columns=[drop]) if drop and drop in frame.columns else frame
    return pd.concat([region_columns(codes, hierarchy, lang, below).reset_index(drop=True),
                      body.reset_index(drop=True)], axis=1)


def status_text(status: str, lang: str = "zh") -> str:
    """A status as words (no icon, no colour): 已达标, Needs acceleration …"""
    return i18n.status_label(status, lang, icon=False)


_STATUS_WITH_ICON = {f"{ic} {zh}": zh for zh, _en, ic, _c in i18n.STATUS.values()} | {
    f"{ic} {en}": en for _zh, en, ic, _c in i18n.STATUS.values()}


def plain_statuses(frame: pd.DataFrame) -> pd.DataFrame:
    """Status cells drawn with their icon ('✔ 已达标') as words only ('已达标')."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            if out[col].isin(list(_STATUS_WITH_ICON)).any():
                out[col] = out[col].map(lambda v: _STATUS_WITH_ICON.get(v, v) if isinstance(v, str) else v)
    return out
