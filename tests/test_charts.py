"""Figures the leadership pages draw: legible quarter axes, readable colours, a heatmap legend."""

from __future__ import annotations

import re

import pytest

from metrics import charts, i18n, periods


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    f = lambda v: v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4  # noqa: E731
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("status", list(i18n.STATUS))
def test_text_on_every_status_colour_is_readable(status):
    assert contrast(i18n.TEXT_ON_STATUS, i18n.status_colour(status)) >= 4.5


@pytest.mark.parametrize("colour", [charts.TEXT, charts.TARGET_TEXT])
def test_chart_text_colours_are_readable_on_white(colour):
    assert contrast(colour, "#FFFFFF") >= 4.5


@pytest.mark.parametrize("lang,pattern", [("zh", r"^\d{4}年([一二三四]季度)?$"), ("en", r"^\d{4}( Q[1-4])?$")])
@pytest.mark.parametrize("span", [("2024Q1", "2024Q4"), ("2021Q1", "2025Q4"), ("2020Q4", "2030Q4")])
def test_quarter_axis_is_thinned_and_in_the_ui_language(lang, pattern, span):
    import plotly.graph_objects as go

    fig = go.Figure()
    quarters = periods.period_range(*span)
    charts.quarter_axis(fig, quarters, lang)
    ax = fig.layout.xaxis
    assert len(ax.tickvals) <= charts.MAX_TICKS
    assert all(re.match(pattern, t) for t in ax.ticktext), ax.ticktext
    assert set(ax.tickvals) <= set(ax.categoryarray)
    assert list(ax.categoryarray) == [i18n.period_label(q, lang) for q in quarters]
    if lang == "en":
        assert not any(re.search(r"[\u4e00-\u9fff]", t) for t in ax.ticktext)


def test_heatmap_legend_names_the_statuses_and_cells_are_clickable():
    statuses = [["met", "not_met"], ["achieved", "off_track"]]
    hover = [["a", "b"], ["c", "d"]]
    fig = charts.heatmap_figure(["甲镇", "乙镇"], ["指标一", "指标二"], statuses, hover, "zh")
    legend = {t.name for t in fig.data if t.showlegend is not False and t.name}
    assert legend == {i18n.status_label(s) for s in ("met", "not_met", "achieved", "off_track")}
    clicks = fig.data[1]
    assert clicks.type == "scatter" and len(clicks.x) == 4
    # customdata = [region index, indicator index, hover]: the page maps a click back to codes
    assert [list(c[:2]) for c in clicks.customdata] == [[0, 0], [1, 0], [0, 1], [1, 1]]
    assert list(fig.layout.yaxis.range) == [1.5, -0.5]


def test_heatmap_cuts_long_labels_but_keeps_rows_distinct():
    names = ["农村低收入人口住房安全保障率甲", "农村低收入人口住房安全保障率乙"]
    fig = charts.heatmap_figure(["甲镇"], names, [["met", "met"]], [["", ""]], "zh")
    assert len(set(fig.data[0].y)) == 2


def test_numbers_never_show_none_nan_or_negative_zero():
    for value in (None, float("nan"), float("inf")):
        assert i18n.number(value) == "—"
        assert i18n.percent(value) == "—"
    assert i18n.number(-0.01, 1) == "0.0"
    assert i18n.number(1234.5, 0) in ("1,234", "1,235")
    assert i18n.with_unit(3.0, 1, "%", "en") == "3.0%"
    assert i18n.with_unit(3.0, 0, "座", "zh") == "3座"
    assert i18n.with_unit(3.0, 0, "units", "en") == "3 units"


def test_english_count_units_are_singular_for_one():
    assert i18n.with_unit(1, 0, "stations", "en") == "1 station"
    assert i18n.with_unit(1, 0, "children", "en") == "1 child"
    assert i18n.with_unit(1, 0, "facilities", "en") == "1 facility"
    assert i18n.with_unit(1, 0, "person-times", "en", signed=True) == "+1 person-time"
    assert i18n.with_unit(1, 1, "stations", "en") == "1.0 stations"       # a decimal reads plural
    assert i18n.with_unit(2, 0, "stations", "en") == "2 stations"
    assert i18n.with_unit(1, 0, "yuan/person", "en") == "1 yuan/person"   # a rate, not a count
    assert i18n.with_unit(1, 0, "km", "en") == "1 km"
    assert i18n.with_unit(1, 0, "座", "zh") == "1座"
