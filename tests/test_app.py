"""AppTest: each page renders for the demo data and shows what the core computes."""

import os

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
    return "\n".join(m.value for m in at.markdown)


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
    assert len(at.get("plotly_chart")) == 2


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
