"""Table export: CSV (UTF-8 with BOM) and XLSX round-trip a table; formulas come back neutralised."""

import io

import pandas as pd
import pytest

from metrics import i18n
from metrics.export import tables

AWKWARD = pd.DataFrame({
    "地区": ["东风示范苏木", "红花示范镇", "=1+1", "@SUM(A1)"],
    "卫生厕所普及率（%）": [93.5, 88.25, None, -1.5],
    "说明": ["+86 138", "-2+3", "正常", "-12.5%"],
    "状态": ["✔ 已达标", "⚠ 需加快", "✖ 严重滞后", "？ 无数据"],
})


def test_neutralise_prefixes_formula_cells_only():
    assert tables.neutralise_cell("=1+1") == "'=1+1"
    assert tables.neutralise_cell("@SUM(A1)") == "'@SUM(A1)"
    assert tables.neutralise_cell("+86 138") == "'+86 138"
    assert tables.neutralise_cell("-2+3") == "'-2+3"
    assert tables.neutralise_cell("\t=cmd") == "'\t=cmd"
    # plain numbers written as text are not formulas and stay readable
    assert tables.neutralise_cell("-1,234.5") == "-1,234.5"
    assert tables.neutralise_cell("-12.5%") == "-12.5%"
    assert tables.neutralise_cell("正常") == "正常"
    assert tables.neutralise_cell(-1.5) == -1.5


def test_csv_has_bom_and_round_trips_with_formulas_neutralised():
    raw = tables.to_csv(AWKWARD)
    assert raw.startswith(b"\xef\xbb\xbf")          # Excel reads UTF-8 only with the BOM
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert list(back.columns) == list(AWKWARD.columns)
    assert back["地区"].tolist() == ["东风示范苏木", "红花示范镇", "'=1+1", "'@SUM(A1)"]
    assert back["说明"].tolist() == ["'+86 138", "'-2+3", "正常", "-12.5%"]
    assert back["卫生厕所普及率（%）"].iloc[0] == pytest.approx(93.5)
    assert back["卫生厕所普及率（%）"].iloc[3] == pytest.approx(-1.5)


def test_xlsx_round_trips_numbers_as_numbers_and_never_writes_a_formula():
    raw = tables.to_xlsx(AWKWARD, sheet="示范/表")
    back = pd.read_excel(io.BytesIO(raw), engine="calamine")
    assert list(back.columns) == list(AWKWARD.columns)
    assert back["地区"].tolist() == ["东风示范苏木", "红花示范镇", "'=1+1", "'@SUM(A1)"]
    assert back["卫生厕所普及率（%）"].iloc[1] == pytest.approx(88.25)
    assert pd.isna(back["卫生厕所普及率（%）"].iloc[2])
    import zipfile
    sheet = zipfile.ZipFile(io.BytesIO(raw)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet                          # no cell holds a formula


def test_region_hierarchy_as_columns_and_status_as_words(demo_store):
    h = demo_store.hierarchy
    town = h.children(h.root.code)[0]
    villages = [v.code for v in h.children(town.code)][:3]
    frame = pd.DataFrame({"地区": [h[c].name for c in villages], "状态": ["✔ 已达标", "⚠ 需加快", "✖ 严重滞后"]})
    out = tables.with_regions(tables.plain_statuses(frame), villages, h, "zh", drop="地区")
    assert list(out.columns) == [i18n.level_name("county"), i18n.level_name("township"), i18n.level_name("village"),
                                 "地区代码", "状态"]
    assert out[i18n.level_name("township")].tolist() == [town.name] * 3
    assert out["地区代码"].tolist() == villages
    assert out["状态"].tolist() == ["已达标", "需加快", "严重滞后"]
    below = tables.region_columns(villages, h, "en", below=town.code)
    assert list(below.columns) == ["Township", "Village", "Region code"]
