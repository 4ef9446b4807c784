"""Reading what analysts really send: bytes → sheets of text cells → one long frame of raw values.

CSV in UTF-8 (with or without BOM), GBK/GB18030, UTF-16 ("Unicode text", tab-separated) and
XLSX (pandas ``engine="calamine"``). Decoding is Python; everything after works on columns.
Row numbers are the ones Excel shows (first row = 1). Layout (wide or long) and header
language (Chinese names or codes) are detected from the header row.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from metrics.catalog import Catalog

XLSX_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")   # xlsx (zip) and legacy xls
HEADER_SCAN_ROWS = 10
TOTALS_WORDS = ("合计", "总计", "小计")

# header aliases, compared after ``norm_header``
REGION_CODE = {"region_code", "区划代码", "地区代码", "行政区划代码", "统计用区划代码", "代码", "code"}
REGION_NAME = {"region_name", "region", "地区", "地区名称", "名称", "区域", "单位名称", "嘎查村", "村", "乡镇", "苏木乡镇"}
ELEMENT = {"element_code", "element", "数据项", "数据项代码", "指标", "指标代码", "指标名称", "数据项名称"}
PERIOD = {"period", "季度", "期别", "报告期", "时期", "quarter"}
VALUE = {"value", "数值", "值", "数据", "填报值"}
IGNORED = {"序号", "备注", "note", "notes", "remark", "no", "no.", "unit", "单位", "计量单位", "element_name", "说明"}


class UnreadableFile(ValueError):
    """The file cannot be read at all; ``key``/``values`` name the message in text.py."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key, self.values = key, values


@dataclass
class Sheet:
    name: str
    cells: pd.DataFrame   # text cells ("" when blank); index i is Excel row i + 1


@dataclass
class RawUpload:
    """Raw values in long form, before any validation."""
    layout: str                       # "wide" | "long" | "" (nothing readable)
    rows_read: int                    # non-blank data rows
    values: pd.DataFrame              # sheet, row, region, region_column, element, element_column, period, period_column, value, column
    totals: pd.DataFrame              # sheet, row, column, value — skipped totals rows
    missing: list[tuple[str, int, str]] = field(default_factory=list)        # (sheet, row, column name)
    unknown_headers: list[tuple[str, int, str]] = field(default_factory=list)  # wide: (sheet, row, header)
    ignored: int = 0                  # blank value cells of data rows


def norm_header(text: str) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"\s+", "", s)


# -- decoding ----------------------------------------------------------------------------------
def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 (BOM, or NUL-rich), else GB18030 (a superset of GBK)."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, bytes | None]:
    """The text, and its UTF-8 bytes when the file is UTF-8 already (the CSV reader takes them as
    they are: no second copy of a 100 MB upload encoded back)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), memoryview(data)[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        return data.decode("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"), None
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        return data.decode("gb18030"), None


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_rectangular(text: str, sep: str, utf8: bytes | memoryview | None = None) -> pd.DataFrame | None:
    """Arrow's CSV reader for files whose every line has the header's field count (the usual
    case, 5× faster); None for anything else (short or long rows), which pandas then reads."""
    names = [f"f{i}" for i in range(text.split("\n", 1)[0].count(sep) + 8)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(utf8 if utf8 is not None else text.encode("utf-8"))),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            # large_string: what pandas' string columns hold (read as string, each column was
            # converted on the way to pandas: ~0.15–0.4 s for 2.3·10⁶ rows)
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None
    if any(not pa.types.is_large_string(t) for t in table.schema.types):
        return None
    frame = table.to_pandas()
    frame.columns = range(frame.shape[1])
    return frame


def read_csv_text(text: str, utf8: bytes | memoryview | None = None) -> pd.DataFrame:
    """``text`` as cells; ``utf8``: the same text as UTF-8 bytes, when the caller has them."""
    sep = _delimiter(text)
    fast = _read_rectangular(text, sep, utf8)
    if fast is not None:
        return fast
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c", quoting=csv.QUOTE_MINIMAL)
    except pd.errors.EmptyDataError as exc:
        raise UnreadableFile("msg_empty_file") from exc
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+), saw (\d+)", str(exc))
        detail = (f"第 {m.group(1)} 行有 {m.group(2)} 个字段，多于表头" if m else str(exc).splitlines()[0])
        raise UnreadableFile("msg_unreadable", other=detail) from exc
    frame.columns = range(frame.shape[1])
    return frame


def _cell_text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def read_workbook(data: bytes) -> list[Sheet]:
    try:
        book = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, engine="calamine", dtype=object)
    except Exception as exc:  # noqa: BLE001 - calamine raises many kinds for a broken workbook
        raise UnreadableFile("msg_unreadable", other=f"不是有效的 Excel 文件（{type(exc).__name__}）") from exc
    sheets = []
    for name, frame in book.items():
        cells = frame.map(_cell_text) if not frame.empty else frame
        cells.columns = range(cells.shape[1])
        sheets.append(Sheet(str(name), cells))
    return sheets


def read_sheets(data: bytes) -> list[Sheet]:
    """The file's sheets as text cells (a CSV is one sheet named "")."""
    if not data.strip():
        raise UnreadableFile("msg_empty_file")
    if data.startswith(XLSX_MAGIC):
        return read_workbook(data)
    try:
        text, utf8 = _decode(data)
    except UnicodeDecodeError as exc:
        raise UnreadableFile("msg_unreadable", other="无法识别的文字编码（请另存为 UTF-8 或 GBK 的 CSV，或 XLSX）") from exc
    if "\x00" in text:
        raise UnreadableFile("msg_unreadable", other="不是文本文件，也不是 Excel 文件")
    return [Sheet("", read_csv_text(text, utf8))]


def _arrow_text(cells: pd.Series) -> pa.Array:
    """A column of cells as Arrow text (zero-copy for pandas' own string columns)."""
    return pa.array(cells.astype(str) if cells.dtype != "str" else cells, type=pa.large_string(), from_pandas=True)


def is_totals_label(cells: pd.Series) -> np.ndarray:
    """合计/总计/小计 anywhere in the cell, or the cell is "total" (Arrow's string kernels on the
    column as it is; only non-ASCII cells can hold the Chinese words)."""
    arr = _arrow_text(cells)
    hit = np.zeros(len(arr), dtype=bool)
    wide = np.flatnonzero(~np.asarray(pc.fill_null(pc.string_is_ascii(arr), True), dtype=bool))
    if len(wide):
        sub = arr.take(pa.array(wide))
        found = np.zeros(len(wide), dtype=bool)
        for word in TOTALS_WORDS:
            found |= np.asarray(pc.fill_null(pc.match_substring(sub, word), False), dtype=bool)
        hit[wide] = found
    # "total" in any case with white space around: an anchored pattern fails at the first character
    # of nearly every cell (no copy of the column trimmed and lower-cased)
    hit |= np.asarray(pc.fill_null(pc.match_substring_regex(arr, r"^[\s\p{Z}]*(?i:total)[\s\p{Z}]*$"), False),
                      dtype=bool)
    return hit


# -- layout ------------------------------------------------------------------------------------
class ElementMatcher:
    """Element by code, Chinese or English name, with or without its unit in brackets."""

    def __init__(self, catalog: Catalog):
        self.by_key: dict[str, str] = {}
        for e in catalog.elements.values():
            for key in (e.code, e.name_zh, e.name_en, f"{e.name_zh}({e.unit_zh})", f"{e.name_zh}[{e.unit_zh}]",
                        f"{e.name_zh}/{e.unit_zh}", f"{e.name_zh}{e.unit_zh}", f"{e.name_en}({e.unit_en})"):
                self.by_key.setdefault(norm_header(key), e.code)

    def match(self, text: str) -> str | None:
        key = norm_header(text)
        if key in self.by_key:
            return self.by_key[key]
        bare = re.sub(r"[(\[（【].*?[)\]）】]$", "", key)
        return self.by_key.get(bare)


def _role(header: str) -> str | None:
    h = norm_header(header)
    for role, names in (("region_code", REGION_CODE), ("region_name", REGION_NAME), ("element", ELEMENT),
                        ("period", PERIOD), ("value", VALUE), ("ignored", IGNORED)):
        if h in names:
            return role
    return None


def _find_header(cells: pd.DataFrame) -> int | None:
    for i in range(min(HEADER_SCAN_ROWS, len(cells))):
        roles = {_role(c) for c in cells.iloc[i].tolist()}
        if roles & {"region_code", "region_name"}:
            return i
    return None


def _blank(cells: pd.Series) -> np.ndarray:
    """Cells that are empty or only white space."""
    arr = _arrow_text(cells)
    empty = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))   # no trimmed copy made
    return np.asarray(pc.fill_null(empty, False), dtype=bool)


def _repeat(value, n: int, index=None) -> pd.Series:
    """A column of one label: a categorical of one category (a byte per row: no string array
    of a million copies, and nothing for pandas to infer)."""
    if isinstance(value, pd.Series):
        return value if isinstance(value.dtype, pd.CategoricalDtype) else value.astype("category")
    return pd.Series(pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value]),
                     index=index)


def to_long(sheets: list[Sheet], catalog: Catalog) -> RawUpload:
    """Detect each sheet's header and layout; melt wide sheets; collect raw values."""
    matcher = ElementMatcher(catalog)
    parts, totals, missing, unknown = [], [], [], []
    layouts, rows_read, ignored = set(), 0, 0
    readable = False
    for sheet in sheets:
        cells = sheet.cells
        if cells.empty or not (cells != "").to_numpy().any():
            continue
        h = _find_header(cells)
        if h is None:
            if sheet.name and len(sheets) > 1:
                continue   # a read-me or notes sheet
            missing.append((sheet.name, 1, "区划代码 / 地区名称"))
            continue
        readable = True
        header = [str(c).strip() for c in cells.iloc[h].tolist()]
        start = h + 1
        # a second header row of codes (the wide template's) names the columns exactly
        if start < len(cells):
            nxt = [str(c).strip() for c in cells.iloc[start].tolist()]
            hits = sum(1 for c in nxt if c and (_role(c) in ("region_code", "region_name", "period") or
                                                 matcher.by_key.get(norm_header(c)) == c))
            if hits >= max(2, sum(1 for c in nxt if c) // 2):
                header = [n or o for n, o in zip(nxt, header)]
                start += 1
        roles = [_role(c) for c in header]
        body = cells.iloc[start:]
        nonblank = (body != "").any(axis=1)
        body = body[nonblank]
        excel_row = pd.Series(body.index.to_numpy() + 1, index=body.index)
        code_col = roles.index("region_code") if "region_code" in roles else None
        name_col = roles.index("region_name") if "region_name" in roles else None
        key_cols = [c for c in (code_col, name_col) if c is not None]
        is_total = np.zeros(len(body), dtype=bool)
        for c in key_cols + [j for j in range(min(2, len(header))) if j not in key_cols]:
            is_total |= is_totals_label(body[c])
        if is_total.any():
            tcol = key_cols[0]
            totals.append(pd.DataFrame({"sheet": sheet.name, "row": excel_row[is_total].to_numpy(),
                                        "column": header[tcol], "value": body[tcol][is_total].to_numpy()}))
        body, excel_row = body[~is_total], excel_row[~is_total]
        rows_read += len(body) + int(is_total.sum())
        region = body[code_col].str.strip() if code_col is not None else pd.Series("", index=body.index)
        region_column = _repeat(header[code_col] if code_col is not None else "", len(body), body.index)
        if name_col is not None:
            use_name = (region == "").to_numpy(dtype=bool)
            if use_name.any():
                region = region.where(~use_name, body[name_col].str.strip())
                labels = [header[code_col] if code_col is not None else "", header[name_col]]
                region_column = pd.Series(pd.Categorical.from_codes(use_name.astype(np.int8), categories=labels)
                                          if labels[0] != labels[1] else region_column.array, index=body.index)
        period_col = roles.index("period") if "period" in roles else None
        if period_col is None:
            missing.append((sheet.name, h + 1, "季度 period"))
            continue
        period = body[period_col] if period_col is not None else pd.Series("", index=body.index)
        period_label = header[period_col] if period_col is not None else "季度"
        if "element" in roles and "value" in roles:
            layouts.add("long")
            e_col, v_col = roles.index("element"), roles.index("value")
            n, index = len(body), body.index
            frame = pd.DataFrame({"row": excel_row, "region": region, "region_column": region_column,
                                  "element": body[e_col], "element_column": _repeat(header[e_col], n, index),
                                  "period": period, "period_column": _repeat(period_label, n, index),
                                  "value": body[v_col], "column": _repeat(header[v_col], n, index),
                                  "sheet": _repeat(sheet.name, n, index)}, index=index)
            blank = _blank(frame["value"])
            if blank.any():
                ignored += int(blank.sum())
                frame = frame[~blank]
            parts.append(frame)
            continue
        if "element" in roles or "value" in roles:
            missing.append((sheet.name, h + 1, "value 数值" if "element" in roles else "element_code 数据项"))
            continue
        layouts.add("wide")
        for j, label in enumerate(header):
            if roles[j] is not None or not label:
                continue
            code = matcher.match(label)
            if code is None:
                unknown.append((sheet.name, h + 1, label))
                continue
            values = body[j]
            blank = values.str.strip() == ""
            ignored += int(blank.sum())
            keep = ~blank
            n, index = int(keep.sum()), body.index[keep.to_numpy(dtype=bool)]
            parts.append(pd.DataFrame({"row": excel_row[keep], "region": region[keep],
                                       "region_column": region_column[keep], "element": _repeat(code, n, index),
                                       "element_column": _repeat(label, n, index), "period": period[keep],
                                       "period_column": _repeat(period_label, n, index), "value": values[keep],
                                       "column": _repeat(label, n, index), "sheet": _repeat(sheet.name, n, index)},
                                      index=index))
    if not readable and not missing:
        raise UnreadableFile("msg_empty_file")
    columns = ["sheet", "row", "region", "region_column", "element", "element_column", "period", "period_column",
               "value", "column"]
    values = (pd.concat(parts, ignore_index=True)[columns] if parts
              else pd.DataFrame({c: pd.Series(dtype=object) for c in columns}))
    values["row"] = values["row"].astype(np.int64)
    totals_frame = (pd.concat(totals, ignore_index=True) if totals
                    else pd.DataFrame(columns=["sheet", "row", "column", "value"]))
    layout = "mixed" if len(layouts) > 1 else (layouts.pop() if layouts else "")
    return RawUpload(layout, rows_read, values, totals_frame, missing, unknown, ignored)
