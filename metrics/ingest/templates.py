"""Upload templates: the wide XLSX (one sheet per pillar, one row per region of the chosen level,
one column per data element) and the long CSV (region_code, element_code, period, value).

The wide sheet has two header rows: Chinese name with unit (for people), then codes (for the
reader, which matches either). Both templates read back through ``metrics.ingest.read``.
"""

from __future__ import annotations

import io

import pandas as pd
import xlsxwriter

from metrics import periods
from metrics.catalog import PILLAR_NAMES, PILLAR_ORDER, Catalog, Element
from metrics.regions import Hierarchy, Region

BENCHMARK_SHEET = ("对比基准", "Benchmarks")
README_ZH = [
    "填表说明",
    "1. 每个工作表对应一个领域，每行一个地区（区划代码和名称已预填，请勿修改），每列一个数据项（表头含单位）。",
    "2. 第 2 行为数据项代码，供系统识别，请勿删除。季度写作 2024Q2 或 2024年第二季度。",
    "3. 只填写本季度有的数据；空白单元格不会覆盖已有数据。数字可写作 1,234、85%（比率）或全角数字。",
    "4. 合计/总计行会被跳过；比率填 0–100；分子不能大于分母（如优良中等路里程 ≤ 农村公路总里程）。",
    "5. 上传后系统先校验并预览，有任何错误都不会发布；确认无误后填写说明再发布。",
    "",
    "How to fill in",
    "One sheet per pillar, one row per region (code and name prefilled), one column per data element.",
    "Row 2 holds the element codes the system reads: keep it. Quarters as 2024Q2. Blank cells change nothing.",
]


def element_pillars(catalog: Catalog) -> dict[str, str]:
    """Each data element on one sheet: the first pillar (in PILLAR_ORDER) of an indicator using it."""
    out: dict[str, str] = {}
    for pillar in PILLAR_ORDER:
        for ind in catalog.indicators.values():
            if ind.pillar != pillar:
                continue
            f = ind.formula
            used = ind.elements() + [e.weight for c in ind.elements()
                                     if (e := catalog.elements.get(c)) is not None and e.weight]
            if f["type"] == "coverage":
                used = [f["element"]]
            for code in used:
                out.setdefault(code, pillar)
    return out


def template_regions(hierarchy: Hierarchy, level: str | None = None, parent: str | None = None) -> list[Region]:
    """Regions of ``level`` (default: the lowest level present) under ``parent`` (default: all)."""
    pool = ([hierarchy[parent]] + hierarchy.descendants(parent)) if parent else hierarchy.in_order()
    if level is None:
        level = max((r.level for r in hierarchy.leaves()), key=lambda lv: _LEVELS.index(lv))
    return [r for r in pool if r.level == level]


_LEVELS = ("nation", "province", "city", "county", "township", "village")


def header_label(e: Element) -> str:
    return f"{e.name_zh}（{e.unit_zh}）"


def sheets_of(catalog: Catalog) -> list[tuple[str, list[Element]]]:
    pillars = element_pillars(catalog)
    out = []
    for pillar in PILLAR_ORDER:
        els = [e for e in catalog.elements.values() if pillars.get(e.code) == pillar and e.role != "benchmark"]
        if els:
            out.append((PILLAR_NAMES[pillar][0].replace("/", "、"), els))
    rest = [e for e in catalog.elements.values() if e.role == "benchmark" or e.code not in pillars]
    if rest:
        out.append((BENCHMARK_SHEET[0], rest))
    return out


def wide_xlsx(catalog: Catalog, hierarchy: Hierarchy, level: str | None = None, parent: str | None = None,
              period: str | None = None) -> bytes:
    """The wide workbook: a read-me sheet, then one sheet per pillar."""
    period = period or periods.last_complete_quarter()
    regions = template_regions(hierarchy, level, parent)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    codes = wb.add_format({"font_color": "#808080", "font_size": 8, "bg_color": "#F2F2F2"})
    fixed = wb.add_format({"bg_color": "#F2F2F2", "num_format": "@"})
    readme = wb.add_worksheet("填表说明")
    readme.set_column(0, 0, 120)
    for i, line in enumerate(README_ZH):
        readme.write_string(i, 0, line)
    for name, elements in sheets_of(catalog):
        ws = wb.add_worksheet(name[:31])
        ws.write_row(0, 0, ["区划代码", "地区名称", "季度"] + [header_label(e) for e in elements], head)
        ws.write_row(1, 0, ["region_code", "region_name", "period"] + [e.code for e in elements], codes)
        for i, r in enumerate(regions, start=2):
            ws.write_string(i, 0, r.code, fixed)
            ws.write_string(i, 1, r.name, fixed)
            ws.write_string(i, 2, period)
        ws.set_row(0, 48)
        ws.set_column(0, 0, 15)
        ws.set_column(1, 1, 18)
        ws.set_column(2, 2, 9)
        ws.set_column(3, 2 + len(elements), 16)
        ws.freeze_panes(2, 3)
    wb.close()
    return buf.getvalue()


def long_csv(catalog: Catalog, hierarchy: Hierarchy, level: str | None = None, parent: str | None = None,
             period: str | None = None) -> bytes:
    """The long CSV (UTF-8 with BOM so Excel shows the Chinese): every region × element, value blank."""
    period = period or periods.last_complete_quarter()
    regions = [r.code for r in template_regions(hierarchy, level, parent)]
    elements = [e.code for e in catalog.elements.values() if e.role != "benchmark"]
    frame = pd.DataFrame({"region_code": pd.Series(regions).repeat(len(elements)).to_numpy(),
                          "element_code": elements * len(regions), "period": period, "value": ""})
    return frame.to_csv(index=False).encode("utf-8-sig")


def template(catalog: Catalog, hierarchy: Hierarchy, *, layout: str = "wide", fmt: str = "xlsx",
             level: str | None = None, parent: str | None = None, period: str | None = None) -> bytes:
    """``layout`` wide|long in ``fmt`` xlsx|csv (a wide CSV is one table with every element as a column)."""
    if layout == "wide" and fmt == "xlsx":
        return wide_xlsx(catalog, hierarchy, level, parent, period)
    if layout == "long" and fmt == "csv":
        return long_csv(catalog, hierarchy, level, parent, period)
    if layout == "long" and fmt == "xlsx":
        frame = pd.read_csv(io.BytesIO(long_csv(catalog, hierarchy, level, parent, period)), dtype=str,
                            keep_default_na=False, encoding="utf-8-sig")
        buf = io.BytesIO()
        frame.to_excel(buf, index=False, engine="xlsxwriter", sheet_name="data")
        return buf.getvalue()
    # wide CSV: one table with every element as a column
    regions = template_regions(hierarchy, level, parent)
    cols = {"区划代码": [r.code for r in regions], "地区名称": [r.name for r in regions],
            "季度": [period or periods.last_complete_quarter()] * len(regions)}
    cols.update({header_label(e): [""] * len(regions) for e in catalog.elements.values()})
    return pd.DataFrame(cols).to_csv(index=False).encode("utf-8-sig")
