"""AppTest: each page renders for the demo data and shows what the core computes."""

import os
import re

import pytest
from streamlit.testing.v1 import AppTest

from metrics import i18n, query
from metrics.auth import User
from metrics.store import Store
from tests import auth_support
from tests.conftest import REPO

APP = str(REPO / "app.py")


@pytest.fixture
def app(demo_dir, monkeypatch):
    monkeypatch.setenv("RRTT_DATA_DIR", str(demo_dir))

    def make(**params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        auth_support.sign_in(at, demo_dir)   # a signed-in viewer (the app has a sign-in gate)
        for k, v in params.items():
            at.query_params[k] = v
        return at

    return make


def markdown_text(at) -> str:
    """Markdown and HTML blocks (cards, static tables and charts go out as st.html)."""
    return "\n".join([m.value for m in at.markdown] + [h.value for h in at.html])


def test_overview_shows_core_values(app, demo_store):
    at = app(plan="demo-2021-2025", period="2024Q2").run()
    assert not at.exception
    assert at.title[0].value == "总览"
    assert any("演示数据" in w.value for w in at.warning)
    _, _, rows = query.assess_region(demo_store, None, "2024Q2", "demo-2021-2025")
    text = markdown_text(at)
    road = next(r for r in rows if r.indicator.code == "road_good_rate")
    toilets = next(r for r in rows if r.indicator.code == "toilets_built")
    assert f"{road.assessment.value:,.1f}" in text
    assert f"{toilets.assessment.value:,.0f}" in text
    assert i18n.status_label(road.assessment.status) in text


def test_switching_region_quarter_and_language_changes_values(app, demo_store):
    """Each selection arrives as the URL a leader bookmarks or sends (AppTest loses the
    sidebar's widgets on a rerun under st.navigation; the browser test clicks the real widgets)."""
    town = demo_store.hierarchy.children(demo_store.hierarchy.root.code)[0]
    banner = app(plan="demo-2021-2025", period="2024Q2").run()
    at = app(plan="demo-2021-2025", period="2024Q2", region=town.code).run()
    assert not at.exception
    assert at.selectbox(key=f"region_{demo_store.hierarchy.root.code}_zh").value == town.code
    _, _, rows = query.assess_region(demo_store, town.code, "2024Q2", "demo-2021-2025")
    road = next(r for r in rows if r.indicator.code == "road_good_rate")
    assert f"{road.assessment.value:,.1f}" in markdown_text(at)
    assert markdown_text(at) != markdown_text(banner)
    assert town.name in at.caption[0].value

    earlier = app(plan="demo-2021-2025", period="2023Q2", region=town.code).run()
    _, _, rows = query.assess_region(demo_store, town.code, "2023Q2", "demo-2021-2025")
    road23 = next(r for r in rows if r.indicator.code == "road_good_rate")
    assert f"{road23.assessment.value:,.1f}" in markdown_text(earlier)
    assert road23.assessment.value != road.assessment.value

    english = app(plan="demo-2021-2025", period="2024Q2", region=town.code, lang="en").run()
    assert not english.exception
    assert english.title[0].value == "Overview"
    text = markdown_text(english)
    assert "Rural road good/fair/medium rate" in text
    assert "已达标" not in text and "正常推进" not in text


def test_indicator_page_renders_source_and_provenance(app):
    at = app(plan="demo-2021-2025", period="2024Q2", indicator="road_good_rate")
    at.run()
    at.switch_page("pages/indicator.py").run()
    assert not at.exception
    text = markdown_text(at)
    assert "优、良、中等路率不低于75" in text.replace(" ", "") or "75" in text
    assert "数据版本" in text
    # first view: the target path as SVG, the ranking as HTML bars, the table as HTML — no plotly
    assert len(at.get("plotly_chart")) == 0
    assert text.count('<svg class="rr-chart') == 2 and 'class="rr-rank"' in text
    assert 'class="rr-table"' in text and not at.dataframe


def test_indicator_interactive_toggle_shows_plotly(app):
    at = app(plan="demo-2021-2025", period="2024Q2", indicator="road_good_rate")
    at.run()
    at.switch_page("pages/indicator.py").run()
    toggle = at.toggle(key="interactive_chart")
    assert toggle.label == "交互式图表" and toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    assert "<svg class=\"rr-chart" not in markdown_text(at) and "<div class=\"rr-rank\">" not in markdown_text(at)


def test_compare_page_renders_heatmap_and_table(app):
    at = app(plan="demo-2021-2025", period="2024Q2").run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 8


def test_village_has_no_subregions_message(app, demo_store):
    village = demo_store.hierarchy.leaves()[0]
    at = app(plan="demo-2021-2025", period="2024Q2", region=village.code).run()
    assert not at.exception
    assert village.name in at.caption[0].value
    assert any("没有下级地区" in i.value for i in at.info)


def test_empty_data_dir_shows_a_message(app, tmp_path, monkeypatch):
    monkeypatch.setenv("RRTT_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    auth_support.sign_in(at, tmp_path)
    at.run()
    assert not at.exception
    assert any("还没有任何数据" in i.value for i in at.info)


def test_region_without_data_shows_a_message(app, tmp_path, monkeypatch, demo_store):
    """A region whose villages reported nothing: a clear message, not a crash."""
    store = Store(tmp_path)
    village = demo_store.hierarchy.leaves()[0].code
    import pandas as pd
    store.publish(pd.DataFrame([(village, "population", "2024Q2", 500.0)],
                               columns=["region_code", "element_code", "period", "value"]),
                  user=User("t", "analyst"), comment="", source_name="x.csv", source_sha256="0")
    other_town = demo_store.hierarchy.children(demo_store.hierarchy.root.code)[-1].code
    monkeypatch.setenv("RRTT_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    auth_support.sign_in(at, tmp_path)
    at.query_params["region"] = other_town
    at.run()
    assert not at.exception
    assert any("没有数据" in i.value for i in at.info)
    os.environ.pop("X", None)


# -- leadership pages (#7) ------------------------------------------------------------------------
def all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [h.value for h in at.html]
    parts += [c.value for c in at.caption] + [h.value for h in at.subheader]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [e.label for e in at.expander]
    parts += [str(m.label) + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


def test_default_view_is_the_configured_real_plan(app, demo_store):
    """No plan in the URL: the configured default plan (2021–2025), never the illustrative one,
    at the latest quarter; after the target year the cards say which year they judge."""
    at = app().run()
    assert not at.exception
    plan = demo_store.catalog.plans["demo-2021-2025"]
    assert plan.name_zh in at.caption[0].value
    assert "示例" not in at.caption[0].value
    text = all_text(at)
    assert "2025 年末（目标年）" in text
    assert "最新值" in text
    assert not any("示例规划" in i.value for i in at.info)


def test_illustrative_default_plan_is_refused(app, monkeypatch, demo_store):
    monkeypatch.setenv("RRTT_DEFAULT_PLAN", "demo-2026-2030")
    at = app().run()
    assert not at.exception
    assert demo_store.catalog.plans["demo-2021-2025"].name_zh in at.caption[0].value


def test_cards_without_target_fold_into_one_section_at_the_end(app):
    at = app(plan="demo-2026-2030", period="2026Q3").run()
    assert not at.exception
    folded = [e for e in at.expander if "无目标的指标" in e.label]
    assert len(folded) == 1
    main_cards = "\n".join(h.value for h in at.html if "rr-grid" in h.value and h not in folded[0].html)
    assert "○ 无目标" not in main_cards
    assert "○ 无目标" in "\n".join(h.value for h in folded[0].html)


def test_first_screen_order_status_then_lagging_then_cards(app):
    at = app(plan="demo-2021-2025", period="2024Q2").run()

    def walk(node):
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for key in sorted(children):
                yield from walk(children[key])
        else:
            yield node

    flat = [str(getattr(el, "value", "")) + " " + type(el).__name__ for el in walk(at.main)]
    strip = next(i for i, v in enumerate(flat) if "ButtonGroup" in v or "Pills" in v or "UnknownElement" in v)
    lag = next(i for i, v in enumerate(flat) if "最滞后的指标" in v)
    card = next(i for i, v in enumerate(flat) if 'class="rr-card"' in v)
    assert strip < lag < card, flat[:20]


def test_numbers_are_formatted_for_leaders(app):
    """Progress as percent, never None/nan/-0.0, formal wording, no version footer."""
    at = app(plan="demo-2021-2025", period="2024Q2").run()
    text = all_text(at)
    for bad in ("None", "nan", "-0.0", "拖后腿", " v9", "· v"):
        assert bad not in text, bad
    assert re.search(r"进度 \d+%", text)


def test_status_icons_are_distinct():
    icons = [v[2] for v in i18n.STATUS.values()]
    assert len(set(icons)) == len(icons)
    assert i18n.status_label("met") != i18n.status_label("achieved").replace("已", "")


def test_final_view_lagging_regions_column_says_not_met(app):
    at = app(plan="demo-2021-2025", period="2026Q3").run()
    assert not at.exception
    # the lagging tables go out as plain HTML tables: their header cells
    columns = [re.findall(r"<th[^>]*>(.*?)</th>", h.value) for h in at.html if 'class="rr-table"' in h.value]
    assert any("☒ 未达标" in cols for cols in columns), columns
    assert not any("✖ 严重滞后" in cols for cols in columns), columns


@pytest.mark.parametrize("param,value", [("region", "123456789012"), ("period", "2099Q9"),
                                         ("plan", "no-such-plan")])
def test_unknown_url_parameter_names_itself_then_shows_the_default(app, param, value):
    at = app(**{param: value}).run()
    assert not at.exception
    notices = [w.value for w in at.warning if param in w.value]
    assert notices and value in notices[0], [w.value for w in at.warning]
    assert at.title[0].value == "总览"
    assert "class=\"rr-card\"" in markdown_text(at)   # the default view (its cards) follows


def test_english_overview_has_no_chinese_but_names(app, demo_store):
    at = app(plan="demo-2021-2025", period="2024Q2", lang="en").run()
    assert not at.exception
    names = {r.name for r in demo_store.hierarchy.by_code.values()} | {p.name_zh for p in demo_store.catalog.plans.values()}
    text = all_text(at)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    text = re.sub(r"<[^>]+>", "", text)
    assert not re.search(r"[\u4e00-\u9fff]", text), re.findall(r".{0,20}[\u4e00-\u9fff]+.{0,20}", text)[:5]


def test_quarter_and_time_labels():
    assert i18n.period_label("2023Q3") == "2023年三季度"
    assert i18n.period_label("2023Q3", "en") == "2023 Q3"
    assert i18n.local_time("2026-11-22T06:05:00+00:00") == "2026年11月22日 14:05"
    assert i18n.number(-0.04, 1) == "0.0"
    assert i18n.percent(0.42) == "42%"
