"""Reading and validating uploads: one tiny fixture per case (tests/data/ingest/), each asserting
the codes and the row numbers Excel shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from metrics.catalog import default_catalog
from metrics.ingest.report import ERROR_CODES
from metrics.ingest.validate import Rules, validate_bytes
from metrics.regions import load_hierarchy, parse_regions_csv

DATA = Path(__file__).resolve().parent / "data" / "ingest"
V1, V2, V3 = "990121101201", "990121101202", "990121101203"


def rules(**kw) -> Rules:
    base = dict(catalog=default_catalog(), hierarchy=load_hierarchy(DATA / "no-such-dir"), last_period="2026Q3")
    return Rules(**{**base, **kw})


def check(name: str, **kw):
    return validate_bytes((DATA / name).read_bytes(), name, rules(**kw))


def found(report, frame=None) -> list[tuple[str, int]]:
    frame = report.errors if frame is None else frame
    return sorted(zip(frame["code"], frame["row"].astype(int)))


def values(report) -> dict:
    f = report.facts
    return {(r, e, p): v for r, e, p, v in zip(f["region_code"], f["element_code"], f["period"], f["value"])}


# -- what analysts really send -------------------------------------------------------------------
def test_bom_long_csv():
    r = check("bom_long.csv")
    assert r.ok and r.layout == "long" and r.rows_read == 2
    assert values(r) == {(V1, "toilets_built", "2024Q2"): 12, (V2, "toilets_built", "2024Q2"): 7}
    assert list(r.facts["row"]) == [2, 3]


def test_gbk_wide_sheet_with_chinese_headers_and_units():
    r = check("gbk_wide.csv")
    assert r.ok and r.layout == "wide"
    assert values(r) == {(V1, "toilets_built", "2024Q2"): 12, (V1, "households", "2024Q2"): 300,
                         (V2, "households", "2024Q2"): 280}
    assert r.ignored == 1   # the blank cell changes nothing


def test_utf16_tab_separated_excel_unicode_text():
    r = check("utf16_tab.txt")
    assert r.ok and r.layout == "long"
    assert values(r) == {(V1, "toilets_built", "2024Q2"): 5, (V1, "households", "2024Q2"): 301}


def test_xlsx_totals_row_skipped_with_a_warning_and_title_row_above_header():
    r = check("totals_row.xlsx")
    assert r.ok
    assert found(r, r.warnings) == [("skipped_totals_row", 5)]
    assert sorted(set(r.facts["row"])) == [3, 4, 7]   # Excel rows; the blank row 6 is skipped silently
    assert values(r)[(V3, "toilets_built", "2024Q2")] == 3
    assert set(r.facts["sheet"]) == {"生态宜居"}


def test_names_instead_of_codes():
    r = check("names_instead_of_codes.csv")
    assert r.ok
    assert values(r) == {(V1, "toilets_built", "2024Q2"): 3, ("990121102202", "households", "2024Q2"): 410}


def test_ambiguous_name_needs_a_parent():
    h = parse_regions_csv((DATA / "two_chengguan_regions.csv").read_text(encoding="utf-8"))
    r = check("ambiguous_name.csv", hierarchy=h)
    assert found(r) == [("ambiguous_region_name", 3)]
    assert "城关镇" in r.errors["message"][0] and r.errors["column"][0] == "region_name"
    within = check("ambiguous_name.csv", hierarchy=h, parent="990101000000")
    assert within.ok
    assert set(within.facts["region_code"]) == {"990101100201", "990101100000"}


def test_thousands_percent_fullwidth_and_spaces():
    r = check("thousands_and_percent.csv")
    assert r.ok, r.errors
    assert values(r) == {(V1, "households", "2024Q2"): 1234, (V1, "bench_close_linkage_rate", "2024Q2"): 85,
                         (V1, "toilets_built", "2024Q2"): 85, (V2, "households", "2024Q2"): 1200}


# -- every error code, with the Excel row ----------------------------------------------------------
ERROR_FIXTURES = {
    "unknown_region": ("unknown_region.csv", [3]),
    "ambiguous_region_name": ("ambiguous_name.csv", [3]),
    "unknown_element": ("unknown_element.csv", [3]),
    "bad_period": ("bad_period.csv", [3, 4]),
    "future_period": ("future_period.csv", [3]),
    "not_a_number": ("not_a_number.csv", [3, 4]),
    "negative_value": ("negative_value.csv", [3]),
    "rate_out_of_range": ("rate_out_of_range.csv", [3]),
    "numerator_exceeds_denominator": ("numerator_exceeds_denominator.csv", [3]),
    "duplicate_row": ("duplicate_row.csv", [4]),
    "missing_column": ("missing_column.csv", [1]),
    "period_locked": ("period_locked.csv", [2]),
}


def test_every_error_code_has_a_fixture():
    assert set(ERROR_FIXTURES) == set(ERROR_CODES)


@pytest.mark.parametrize("code", sorted(ERROR_FIXTURES))
def test_error_fixture(code):
    name, rows = ERROR_FIXTURES[code]
    kw = {}
    if code == "ambiguous_region_name":
        kw["hierarchy"] = parse_regions_csv((DATA / "two_chengguan_regions.csv").read_text(encoding="utf-8"))
    if code == "period_locked":
        kw["locked"] = frozenset({"2024Q1"})
    r = check(name, **kw)
    assert not r.ok and r.rows_valid == 0
    assert found(r) == [(code, row) for row in rows]
    assert all(m and "{" not in m for m in r.errors["message"])          # Chinese message filled in
    assert all(m and "{" not in m for m in r.errors["message_en"])
    assert all(c for c in r.errors["column"])


def test_error_messages_name_the_column_and_value():
    r = check("numerator_exceeds_denominator.csv")
    assert r.errors["column"][0] == "value"
    assert "农村公路总里程" in r.errors["message"][0]
    d = check("duplicate_row.csv")
    assert "第 2 行" in d.errors["message"][0]


@pytest.mark.parametrize(("name", "code", "row"), [("large_change.csv", "large_change", 3),
                                                   ("decreasing_cumulative.csv", "decreasing_cumulative", 3)])
def test_warning_fixture(name, code, row):
    r = check(name)
    assert r.ok
    assert found(r, r.warnings) == [(code, row)]


def test_large_change_against_the_stored_previous_quarter():
    from metrics.ingest import validate
    stored = validate.current_from(pd.DataFrame([("990121101201", "households", "2024Q1", 1000.0)],
                                                columns=["region_code", "element_code", "period", "value"]))
    r = validate_bytes(b"region_code,element_code,period,value\n990121101201,households,2024Q2,100\n", "x.csv",
                       rules(current_values=stored))
    assert found(r, r.warnings) == [("large_change", 2)]
    assert len(r.current) == 1 and r.current.values.tolist() == [1000.0]   # what the store holds there
    assert r.warnings["message"][0] == "数值 100 与上一季度的 1000 相比变化过大，请核实"


@pytest.mark.parametrize("name", ["unparseable.xlsx", "unparseable_ragged.csv"])
def test_unparseable_file_gets_one_clear_message(name):
    r = check(name)
    assert not r.ok and r.fatal and "Traceback" not in r.fatal
    assert name in r.fatal
    d = r.to_dict()
    assert d["errors"][0]["code"] == "unreadable_file" and d["rows_valid"] == 0


def test_size_and_row_limits():
    data = (DATA / "bom_long.csv").read_bytes()
    too_big = validate_bytes(data, "a.csv", rules(max_mb=len(data) / 2e6))
    assert too_big.fatal and "MB" in too_big.fatal
    too_many = validate_bytes(data, "a.csv", rules(max_rows=1))
    assert too_many.fatal and "2" in too_many.fatal


def test_report_downloads_as_xlsx():
    import io

    import pandas as pd
    r = check("bad_period.csv")
    book = pd.read_excel(io.BytesIO(r.to_xlsx()), sheet_name=None, engine="calamine")
    errors = book["错误"]
    assert list(errors["行号"]) == [3, 4] and set(errors["代码"]) == {"bad_period"}


def test_messages_format_each_cell_as_before_when_values_repeat():
    from metrics.ingest import report as rp
    value = pd.Series([1.0, 12345.5, float("nan"), 1.0, 0.1 + 0.2], index=[7, 8, 9, 10, 11])
    other = pd.Series([4.0, 4.0, None, 2.5, 3.0], index=[7, 8, 9, 10, 11])
    f = rp.issues("large_change", row=[3, 4, 5, 6, 7], column="value", value=value, other=other)
    assert f["message"].tolist() == ["数值 1 与上一季度的 4 相比变化过大，请核实",
                                     "数值 12,345.5 与上一季度的 4 相比变化过大，请核实",
                                     "数值  与上一季度的  相比变化过大，请核实",
                                     "数值 1 与上一季度的 2.5 相比变化过大，请核实",
                                     "数值 0.3 与上一季度的 3 相比变化过大，请核实"]
    assert f["message_en"][1] == "Value 12,345.5 moved a lot from last quarter's 4: please check"


def test_region_scope_is_the_parents_subtree_and_names_are_kept_per_hierarchy():
    """Codes and names resolve within the parent's sub-tree only (a code outside it is refused
    even after the whole hierarchy was looked up); the name index is built once per hierarchy,
    only when a name is looked up, and dropped with the hierarchy."""
    import gc

    from metrics.ingest import validate
    h = parse_regions_csv("code,name,level,parent\n990000000000,测试县,county,\n"
                          "990000100000,甲镇,township,990000000000\n990000200000,乙镇,township,990000000000\n"
                          "990000100201,和平村,village,990000100000\n990000200201,和平村,village,990000200000\n")
    whole = validate.region_resolver(h, None)
    assert whole("990000200201") == ("990000200201", None) and whole(" 990000200201.0") == ("990000200201", None)
    assert h not in validate._NAMES                       # codes alone need no name index
    assert whole("和平村") == (None, "ambiguous_region_name") and whole("无此村") == (None, "unknown_region")
    names = validate._NAMES[h]
    part = validate.region_resolver(h, "990000100000")
    assert part("990000200201") == (None, "unknown_region") and part("和平村") == ("990000100201", None)
    assert part("990000100000") == ("990000100000", None) and part("990000000000") == (None, "unknown_region")
    assert part("乙镇") == (None, "unknown_region") and whole("乙镇") == ("990000200000", None)
    assert validate._NAMES[h] is names
    del h, whole, part, names
    gc.collect()
    assert not any(len(k.by_code) == 5 and "990000100201" in k.by_code for k in validate._NAMES.keys())
