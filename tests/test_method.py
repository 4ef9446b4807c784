"""Issue #7, "The method": one test per numbered point, each failing on the code before its fix."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from metrics import demo, periods, progress, query, reasons
from metrics.catalog import Target, default_catalog
from metrics.regions import parse_regions_csv
from metrics.store import Store

SRC = {"document": None, "clause": None, "quote_zh": None}
CATALOG_DIR = Path(__file__).resolve().parent.parent / "data" / "catalog"
REGIONS = """code,name,level,parent
990000000000,测试县,county,
990000100000,甲镇,township,990000000000
990000100201,甲一村,village,990000100000
990000100202,甲二村,village,990000100000
990000200000,乙镇,township,990000000000
990000200201,乙一村,village,990000200000
"""
COUNTY, TOWN_A, VILLAGE_A1, VILLAGE_B1 = "990000000000", "990000100000", "990000100201", "990000200201"


def target(kind="threshold", **kw) -> Target:
    kw.setdefault("target_period", "2025Q4")
    return Target(id="t", plan="p", indicator="i", kind=kind, source=SRC, **kw)


@pytest.fixture
def small_store(tmp_path):
    return Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))


def publish(store, rows):
    frame = pd.DataFrame(rows, columns=["region_code", "element_code", "period", "value"])
    return store.publish(frame, user="测试", comment="c", source_name="f.csv", source_sha256="0")


# 1 -------------------------------------------------------------------------------------------
def test_point1_benchmarks_are_not_summed_up_the_hierarchy(small_store):
    cat = small_store.catalog
    assert all(e.aggregation == "none" for e in cat.elements.values() if e.role == "benchmark")
    publish(small_store, [(COUNTY, "bench_rural_income_growth", "2024Q2", 6.0),
                          (TOWN_A, "bench_rural_income_growth", "2024Q2", 7.6)])
    look = query.BenchmarkLookup(small_store, [COUNTY, TOWN_A, VILLAGE_A1, VILLAGE_B1],
                                 ["bench_rural_income_growth"])
    assert look.series(COUNTY, "bench_rural_income_growth") == [("2024Q2", 6.0)]      # not 13.6
    assert look.series(TOWN_A, "bench_rural_income_growth") == [("2024Q2", 7.6)]
    assert look.series(VILLAGE_A1, "bench_rural_income_growth") == [("2024Q2", 7.6)]  # inherited down
    assert look.series(VILLAGE_B1, "bench_rural_income_growth") == [("2024Q2", 6.0)]


# 2 -------------------------------------------------------------------------------------------
def test_point2_baseline_fallback_moves_the_base_period():
    # no value at the plan's base 2020Q4: the first observed value (2022Q4) stands in, and so does its quarter
    t = target(target_value=90)
    series = [("2022Q4", 60.0), ("2023Q4", 66.0), ("2024Q2", 70.0)]
    a = progress.assess(t, "higher", series, "2024Q2", "2020Q4")
    assert a.base_period == "2022Q4" and a.baseline == 60
    assert a.expected == pytest.approx(60 + 30 * 6 / 12)            # f from 2022Q4, not from 2020Q4
    assert a.progress == pytest.approx(10 / 15)
    # a relative target: an accelerating region closing its gap is not 倒退
    rel = target("relative", benchmark="bench", comparison="ge")
    bench = [("2020Q4", 5.0), ("2022Q4", 9.0), ("2024Q2", 9.0)]
    r = progress.assess(rel, "higher", [("2022Q4", 6.0), ("2024Q2", 8.0)], "2024Q2", "2020Q4", benchmark=bench)
    assert r.base_period == "2022Q4"
    assert r.status != "regressing" and r.progress == pytest.approx((2 / 3) / 0.5)


# 3 -------------------------------------------------------------------------------------------
def test_point3_one_basis_per_indicator(demo_store):
    cat = demo_store.catalog
    assert cat.indicators["toilets_built"].basis == "cumulative"
    assert cat.indicators["income_pc"].basis == "ytd"
    plan = cat.plans["demo-2021-2025"]
    root = demo_store.hierarchy.root.code
    _, _, rows = query.assess_region(demo_store, root, "2024Q2", plan.id, ["toilets_built"])
    row = rows[0]
    assert row.assessment.basis == "cumulative"
    assert row.current == pytest.approx(row.assessment.value)           # card = banner = cumulative
    assert row.sparkline()[-1][1] == pytest.approx(row.assessment.value)
    flows = query.indicator_values(demo_store, [root], ["toilets_built"], "2024Q2", "2024Q2")
    assert row.change_quarter == pytest.approx(flows["value"].iloc[0])  # delta of the cumulative = the flow
    for child in query.assess_children(demo_store, root, "2024Q2", plan, "toilets_built"):
        built = query.indicator_values(demo_store, [child.region_code], ["toilets_built"], "2022Q1", "2024Q2")
        assert child.current == pytest.approx(built["value"].sum())     # rankings in the same basis
    assert row.to_dict()["basis"] == "cumulative"
    assert reasons.basis_label("cumulative", "zh") == "累计"
    assert reasons.basis_label("flow", "zh") == "本季新增"
    assert reasons.basis_label("ytd", "en") == "Year to date"


# 4 -------------------------------------------------------------------------------------------
def ytd_income(first=2020, last="2024Q2"):
    shares = (0.24, 0.49, 0.74, 1.0)
    out = []
    for p in periods.period_range(f"{first}Q1", last):
        annual = 10000 * 1.07 ** (periods.year_of(p) - 2020)
        out.append((p, annual * shares[periods.quarter_of(p) - 1]))
    return out


def test_point4_year_to_date_compared_like_for_like():
    t = target(target_value=15000, baseline_value=10000, baseline_period="2020Q4")
    a = progress.assess(t, "higher", ytd_income(), "2024Q2", "2020Q4", basis="ytd")
    annual_2025 = 10000 * 1.07 ** 5
    assert a.projection == pytest.approx(annual_2025, rel=0.03)       # not a line through the sawtooth
    assert a.judged_period == "2023Q4"                                # the last full year, not half a year
    assert a.value == pytest.approx(10000 * 1.07 ** 3)
    # a relative year-to-date target compares the same quarter with the benchmark and does not project
    rel = target("relative", benchmark="bench")
    bench = [(p, v * 0.99) for p, v in ytd_income()]
    r = progress.assess(rel, "higher", ytd_income(), "2024Q2", "2020Q4", benchmark=bench, basis="ytd")
    assert r.projection is None and r.status == "achieved"


# 5 -------------------------------------------------------------------------------------------
def test_point5_seasonal_expectation_with_two_earlier_years():
    profile = (0.1, 0.2, 0.4, 0.3)                        # work is done in summer
    earlier = [(f"{y}Q{q + 1}", 300 * s) for y in (2022, 2023) for q, s in enumerate(profile)]
    t = target("milestones", milestones={2024: 400, 2025: 400})
    a = progress.assess(t, "higher", earlier + [("2024Q1", 40.0)], "2024Q1", "2020Q4")
    assert a.expected == pytest.approx(40)
    assert a.status == "on_track" and a.expected_mode == "seasonal"
    assert "季节" in reasons.reason_text(a, "zh")
    one_year = progress.assess(t, "higher", earlier[4:] + [("2024Q1", 40.0)], "2024Q1", "2020Q4")
    assert one_year.expected == pytest.approx(100) and one_year.expected_mode == "pro_rata"
    assert "平均" in reasons.reason_text(one_year, "zh")


# 6 -------------------------------------------------------------------------------------------
def test_point6_status_never_contradicts_its_numbers():
    t = target(target_value=75, baseline_value=50, baseline_period="2020Q4")
    # below the baseline (p < 0) but climbing fast: the projection must not lift it
    climbing = [("2023Q4", 20.0), ("2024Q1", 30.0), ("2024Q2", 45.0)]
    a = progress.assess(t, "higher", climbing, "2024Q2", "2020Q4")
    assert a.progress < 0 and a.status == "regressing"
    # a rate is never projected above 100
    rate = target(target_value=100, baseline_value=50, baseline_period="2020Q4")
    fast = [("2023Q4", 60.0), ("2024Q1", 75.0), ("2024Q2", 90.0)]
    r = progress.assess(rate, "higher", fast, "2024Q2", "2020Q4", percent=True)
    assert r.projection is not None and r.projection <= 100
    # a projection lifts by one level at most: 严重滞后 becomes 需加快, never 正常推进
    slow_then_fast = [("2023Q4", 48.0), ("2024Q1", 51.0), ("2024Q2", 56.0)]   # p ~ 0.34, trend reaches 75
    s = progress.assess(t, "higher", slow_then_fast, "2024Q2", "2020Q4")
    assert s.projection >= 75 and s.status == "accelerate" and s.reason == "projection"
    # no sentinel p: already beyond the target from a baseline beyond it, nothing was required
    above = target(target_value=90, baseline_value=95, baseline_period="2020Q4")
    b = progress.assess(above, "higher", [("2024Q2", 92.0)], "2024Q2", "2020Q4")
    assert b.status == "achieved" and b.progress is None
    # one data point cannot be judged 严重滞后
    one = progress.assess(target(target_value=90), "higher", [("2024Q2", 60.0)], "2024Q2", "2020Q4")
    assert one.status == "no_data" and one.progress is None
    # every status has a one-line reason in both languages; too few points says so
    lagging = progress.assess(t, "higher", [("2024Q1", 55.0), ("2024Q2", 55.0)], "2024Q2", "2020Q4")
    assert "数据不足，无法预测" in reasons.reason_text(lagging, "zh")
    on = progress.assess(t, "higher", [("2023Q4", 58.0), ("2024Q1", 62.0), ("2024Q2", 67.0)], "2024Q2", "2020Q4")
    assert reasons.reason_text(on, "zh").startswith("按近 8 季趋势") or on.status == "on_track"
    lifted = reasons.reason_text(s, "zh")
    assert lifted == "按近 8 季趋势，预计 2025 年可达标"
    assert reasons.reason_text(s, "en") == "On the last 8 quarters' trend, expected to meet the target in 2025"
    for x in (a, r, s, b, one, lagging, on):
        assert x.reason and "\n" not in reasons.reason_text(x, "zh") and reasons.reason_text(x, "en")


# 7 -------------------------------------------------------------------------------------------
def test_point7_boundaries_agree_with_what_the_reader_sees():
    # "2 家 · 应达 2 · 严重滞后": the reader sees 2 of 2 expected
    t = target("trajectory", target_value=3, baseline_value=0, baseline_period="2020Q4")
    a = progress.assess(t, "higher", [("2024Q4", 2.0)], "2024Q4", "2020Q4", decimals=0)
    assert round(a.expected) == 2 and a.status == "on_track" and a.progress == pytest.approx(1.0)
    # 2 of 应达 2.5, shown as 2 (format spec): p from the shown numbers; p is never 0% beside 正常推进
    from2 = target("trajectory", target_value=3, baseline_value=2, baseline_period="2022Q4")
    c = progress.assess(from2, "higher", [("2024Q2", 2.0)], "2024Q2", "2020Q4", decimals=0)
    assert f"{c.expected:.0f}" == "2" and c.status == "on_track" and c.progress is None
    assert reasons.reason_text(c, "zh") == "已达到当前应达值"
    # exact boundaries computed in floating point: p = 0.95 and 0.60 exactly (in decimal)
    wrong = []
    for b in range(0, 60, 3):
        for g in (b + 7, b + 11, b + 13.3, b + 29.1):
            tt = target(target_value=g, baseline_value=float(b), baseline_period="2020Q4")
            for q, want in ((0.95, "on_track"), (0.60, "accelerate")):
                e = progress.expected_linear(b, g, "2020Q4", "2023Q2", "2025Q4")
                v = b + q * (e - b)
                got = progress.assess(tt, "higher", [("2023Q2", v)], "2023Q2", "2020Q4").status
                if got != want:
                    wrong.append((b, g, q, got))
    assert wrong == []
    # the target itself: 74.96 is shown as 75.0 with one decimal, and 0.1 + 0.2 reaches 0.3
    assert progress.assess(target(target_value=75), "higher", [("2023Q2", 74.96)], "2023Q2", "2020Q4",
                           decimals=1).status == "achieved"
    assert progress.assess(target(target_value=0.3), "higher", [("2023Q2", 0.1 + 0.2)], "2023Q2", "2020Q4",
                           decimals=2).status == "achieved"
    # strict or not follows the source's words: 高于 is >, 不低于 / 达到 is ≥
    for t in yaml.safe_load((CATALOG_DIR / "targets.yaml").read_text(encoding="utf-8")):
        quote = (t.get("source") or {}).get("quote_zh") or ""
        if "高于" in quote and "不低于" not in quote:
            assert t.get("comparison") in ("gt", "lt"), t["id"]
        if ("不低于" in quote or "达到" in quote) and "高于" not in quote:
            assert t.get("comparison") in (None, "ge", "le"), t["id"]


# 8 -------------------------------------------------------------------------------------------
def test_point8_relative_targets_judged_per_period():
    rel = target("relative", benchmark="bench", comparison="ge")
    bench = [("2020Q4", 7.0), ("2023Q2", 7.0)]
    # base gap -2; half the time elapsed; 40% of the gap closed → p = 0.4 / 0.5 = 0.8
    a = progress.assess(rel, "higher", [("2020Q4", 5.0), ("2023Q2", 5.8)], "2023Q2", "2020Q4",
                        benchmark=bench, decimals=1)
    assert a.progress == pytest.approx(0.8) and a.status == "accelerate"
    assert a.margin == pytest.approx(5.8 - 7.0)
    # no base gap (within tolerance of zero): met or not met only, no cliff between p = +1 and -1
    for start in (6.999, 7.0, 7.001):
        below = progress.assess(rel, "higher", [("2020Q4", start), ("2023Q2", 6.9)], "2023Q2", "2020Q4",
                                benchmark=bench, decimals=1)
        assert below.status == "not_met" and below.progress is None
        above = progress.assess(rel, "higher", [("2020Q4", start), ("2023Q2", 7.1)], "2023Q2", "2020Q4",
                                benchmark=bench, decimals=1)
        assert above.status == "achieved" and above.margin == pytest.approx(0.1)


# 9 -------------------------------------------------------------------------------------------
def test_point9_before_the_start_and_missing_quarters():
    traj = target("trajectory", target_value=3, baseline_value=1, baseline_period="2022Q4")
    a = progress.assess(traj, "higher", [("2022Q2", 0.0)], "2022Q2", "2020Q4")
    assert a.status == "not_started"
    m = target("milestones", milestones={2022: 100, 2023: 100})
    b = progress.assess(m, "higher", [("2021Q2", 5.0), ("2021Q3", 7.0)], "2021Q3", "2020Q4")
    assert b.status == "not_started" and b.value == 0
    flows = [(q, 25.0) for q in periods.period_range("2022Q1", "2023Q3") if q != "2023Q2"]
    c = progress.assess(m, "higher", flows, "2023Q3", "2020Q4")
    assert c.status == "no_data" and c.missing_quarters == ["2023Q2"]
    assert "2023年二季度" in reasons.reason_text(c, "zh") and "2023 Q2" in reasons.reason_text(c, "en")
    assert c.value is None                                              # never summed as if it were zero
    assert "not_started" in progress.STATUSES


# 10 ------------------------------------------------------------------------------------------
def test_point10_indicators_below_their_lowest_level(demo_store):
    cat = demo_store.catalog
    for code in ("township_health_center_coverage", "township_gp_coverage", "township_kindergarten_coverage",
                 "civilized_township_share"):
        assert cat.indicators[code].min_level == "county", code
    village = demo_store.hierarchy.leaves()[0].code
    _, _, rows = query.assess_region(demo_store, village, "2024Q2", "demo-2021-2025")
    codes = {r.indicator.code for r in rows}
    assert "township_health_center_coverage" not in codes and "road_good_rate" in codes
    why = query.not_applicable_reason(demo_store, "township_health_center_coverage", village)
    assert why and "县" in why
    assert query.not_applicable_reason(demo_store, "township_health_center_coverage",
                                       demo_store.hierarchy.root.code) is None
    town = demo_store.hierarchy.children(demo_store.hierarchy.root.code)[0].code
    plan = cat.plans["demo-2021-2025"]
    assert query.assess_children(demo_store, demo_store.hierarchy.root.code, "2024Q2", plan,
                                 "township_health_center_coverage") == []
    assert query.not_applicable_reason(demo_store, "township_health_center_coverage", town, "en")


# 11 ------------------------------------------------------------------------------------------
def test_point11_demo_writes_only_valid_values(tmp_path, monkeypatch):
    cat = default_catalog()
    facts = demo.build_demo_facts(cat, Store(tmp_path / "x").hierarchy)
    assert demo.check_facts(facts, cat) == []
    assert facts["value"].min() >= 0
    bad = pd.DataFrame([("990121101201", "toilets_built", "2024Q2", -1.0),
                        ("990121101201", "bench_close_linkage_rate", "2024Q2", 101.0),
                        ("990121101201", "road_km_good", "2024Q2", 12.0),
                        ("990121101201", "road_km_total", "2024Q2", 10.0)],
                       columns=["region_code", "element_code", "period", "value"])
    problems = demo.check_facts(bad, cat)
    assert len(problems) == 3
    store = Store(tmp_path / "y")
    monkeypatch.setattr(demo, "build_demo_facts", lambda c, h: pd.concat([facts, bad], ignore_index=True))
    with pytest.raises(ValueError):
        demo.write_demo(store)
    assert store.is_empty()
