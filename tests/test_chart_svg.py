"""The target-path chart drawn as SVG in Python, and the sub-region ranking as HTML bars."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from metrics import chart_svg, charts, i18n, periods, query

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> list[ET.Element]:
    """Both sizes of the chart, each parsed as XML (fails on markup a browser might guess at)."""
    root = ET.fromstring(f"<div>{markup}</div>")
    svgs = root.findall("s:svg", NS)
    assert len(svgs) == 2, markup[:200]
    return svgs


def points(el: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in el.get("points").split()]


def value_to_y(svg: ET.Element):
    """The y-axis as drawn: value → y from the grid lines and their labels."""
    grid = [ln for ln in svg.findall("s:line", NS) if ln.get("stroke") == chart_svg.GRID]
    labels = [t for t in svg.findall("s:text", NS) if t.get("text-anchor") == "end" and re.fullmatch(r"[\d,.\-]+", t.text or "")]
    assert len(grid) >= 2 and len(labels) == len(grid)
    (v0, y0), (v1, y1) = [(float(t.text.replace(",", "")), float(g.get("y1"))) for t, g in
                          ((labels[0], grid[0]), (labels[-1], grid[-1]))]
    return lambda v: y0 + (v - v0) * (y1 - y0) / (v1 - v0)


def synthetic(lang: str = "zh") -> charts.TargetPath:
    quarters = periods.period_range("2020Q4", "2025Q4")
    actual = [(q, 50 + i * 1.5) for i, q in enumerate(periods.period_range("2020Q4", "2024Q2"))]
    return charts.TargetPath(
        title="农村公路优良中等路率", unit="%", decimals=1, quarters=quarters, target=75.0,
        target_label="目标值 75.0%", lang=lang,
        traces=[charts.Trace("actual", "实际值", actual, charts.ACTUAL, width=3),
                charts.Trace("expected", "应达路径", [("2020Q4", 50.0), ("2025Q4", 75.0)], charts.EXPECTED, dash="dot"),
                charts.Trace("projection", "趋势预测", [("2024Q2", 70.5), ("2025Q4", 76.0)], charts.ACTUAL,
                             dash="dash", width=1.5, marker="circle-open")])


def test_target_path_svg_parses_and_puts_the_path_where_the_values_are():
    path = synthetic()
    for svg in parse(chart_svg.target_path_svg(path)):
        y_of = value_to_y(svg)
        expected = points(svg.find("s:polyline[@class='rr-expected']", NS))
        actual = points(svg.find("s:polyline[@class='rr-actual']", NS))
        target = svg.find("s:line[@class='rr-target']", NS)
        assert len(actual) == 15
        # the expected path runs from the baseline at the first quarter to the target at the last
        assert expected[0][0] == pytest.approx(actual[0][0])           # both start at 2020Q4
        assert expected[0][1] == pytest.approx(y_of(50.0), abs=0.15)
        assert expected[1][1] == pytest.approx(y_of(75.0), abs=0.15)
        assert float(target.get("y1")) == pytest.approx(expected[1][1], abs=0.15)
        assert expected[1][0] == pytest.approx(float(target.get("x2")) - 8, abs=0.15)   # 2025Q4: the right end
        # quarters evenly spaced: 2024Q2 is 14 of 20 steps along
        x0, x1 = expected[0][0], expected[1][0]
        assert actual[-1][0] == pytest.approx(x0 + (x1 - x0) * 14 / 20, abs=0.15)
        assert actual[-1][1] == pytest.approx(y_of(50 + 14 * 1.5), abs=0.15)
        # CJK text as real text, in the CJK font stack
        assert svg.find("s:title", NS).text == "农村公路优良中等路率"
        assert "Noto Sans CJK SC" in svg.get("font-family")
        texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
        assert {"实际值", "应达路径", "趋势预测", "目标值 75.0%"} <= set(texts)
        assert any(re.fullmatch(r"\d{4}年", t or "") for t in texts)   # the quarter axis, thinned to years


def test_target_path_svg_in_english_has_no_chinese_but_names():
    path = synthetic("en")
    path.traces[0].name, path.target_label = "Actual", "Target 75.0%"
    path.traces[1].name, path.traces[2].name = "Expected path", "Projection"
    wide, narrow = parse(chart_svg.target_path_svg(path))
    ticks = [t.text for t in wide.findall("s:text", NS) if re.fullmatch(r"\d{4}( Q\d)?", t.text or "")]
    assert ticks and len(ticks) <= charts.MAX_TICKS
    assert len([t for t in narrow.findall("s:text", NS) if re.fullmatch(r"\d{4}", t.text or "")]) <= 4


@pytest.mark.parametrize("plan_id,period", [("demo-2021-2025", "2024Q2"), ("demo-2021-2025", "2026Q3"),
                                            ("demo-2026-2030", "2026Q3")])
def test_every_demo_indicator_draws_a_clean_svg(demo_store, plan_id, period):
    plan = demo_store.catalog.plans[plan_id]
    _, _, rows = query.assess_region(demo_store, None, period, plan.id)
    kinds = set()
    for row in rows:
        bench = (query.benchmark_series(demo_store, row.region_code, row.target.benchmark)
                 if row.target is not None and row.target.kind == "relative" else None)
        path = charts.target_path(row, plan.base, "zh", benchmark=bench)
        markup = chart_svg.target_path_svg(path)
        for bad in ("nan", "None", "inf"):
            assert bad not in markup, (row.indicator.code, bad)
        for svg in parse(markup):
            assert svg.find("s:title", NS).text == i18n.name(row.indicator, "zh")
        kinds.add(row.target.kind if row.target is not None else None)
    assert len(kinds) >= 2, kinds   # several kinds of target (or none) per plan


def test_svg_and_plotly_draw_the_same_series(demo_store):
    plan = demo_store.catalog.plans["demo-2021-2025"]
    _, _, rows = query.assess_region(demo_store, None, "2024Q2", plan.id)
    row = next(r for r in rows if r.indicator.code == "toilets_built")
    path = charts.target_path(row, plan.base, "zh")
    fig = charts.target_path_figure(row, plan.base, "zh")
    assert [t.name for t in fig.data] == [t.name for t in path.traces]
    assert [len(t.x) for t in fig.data] == [len(t.points) for t in path.traces]
    # the unit upright above the value labels, as in the SVG (a rotated 座 read sideways)
    unit = [a for a in fig.layout.annotations if a.name == "unit"]
    assert [a.text for a in unit] == ["座"] and unit[0].textangle in (None, 0) and not fig.layout.yaxis.title.text


def test_ranking_html_lists_best_first_with_status_words_and_the_target():
    rows = [{"name": "甲", "status": "off_track", "value": 40.0, "reason": "差"},
            {"name": "乙", "status": "achieved", "value": 90.0, "reason": ""},
            {"name": "丙", "status": "no_data", "value": None, "reason": ""}]
    markup = charts.ranking_html(rows, 80.0, "%", 1, "zh")
    ET.fromstring(markup)   # well-formed
    names = re.findall(r'rr-rank-name">([^<]*)<', markup)
    assert names == ["乙", "甲"]
    assert "90.0% ✔ 已达标" in markup and "40.0% ✖ 严重滞后" in markup
    # the scale runs 0..90 (the largest value): the target tick at 80/90, bars from zero
    assert markup.count('class="rr-rank-target" style="left:88.9%"') == 3   # header and both rows
    assert re.findall(r'rr-rank-bar" style="left:([\d.]+)%;width:([\d.]+)%', markup) == [("0.0", "100.0"), ("0.0", "44.4")]
    assert "目标值 80.0%" in markup
    lower = charts.ranking_html(rows, None, "%", 1, "zh", direction="lower")
    assert re.findall(r'rr-rank-name">([^<]*)<', lower) == ["甲", "乙"] and "rr-rank-target" not in lower
