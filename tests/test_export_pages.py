"""AppTest: the report page builds a report with a progress bar; charts and tables carry their exports."""

from streamlit.testing.v1 import AppTest

from metrics.auth import User
from metrics.i18n import tr
from pages.common import Filters
from tests.conftest import REPO

WIDGETS = """
import pandas as pd
import plotly.graph_objects as go
from pages import widgets
fig = go.Figure(go.Bar(x=["东风示范苏木"], y=[2]))
widgets.st_chart(fig, key="c", lang="zh", trace={"title": "卫生厕所", "region": "示范旗", "period": "2024Q2", "snapshot": 9})
widgets.st_table(pd.DataFrame({"地区": ["=1+1"], "状态": ["✔ 已达标"]}), stem="t", lang="zh")
"""


def _page(demo_dir, demo_store, monkeypatch, region=None) -> AppTest:
    monkeypatch.setenv("RRTT_DATA_DIR", str(demo_dir))
    at = AppTest.from_file(str(REPO / "pages" / "report.py"), default_timeout=300)
    plan = demo_store.catalog.plans["demo-2021-2025"]
    at.session_state["filters"] = Filters("zh", region or demo_store.hierarchy.root.code, "2024Q2", plan,
                                          demo_store.version(), str(demo_dir))
    at.session_state["user"] = User("reader", "viewer")   # a leader may build reports
    return at


def _run(at: AppTest) -> AppTest:
    at.session_state["_app_entry"] = True     # what app.py sets before it runs a page
    return at.run()


def test_report_page_builds_a_docx_with_progress(demo_dir, demo_store, monkeypatch):
    at = _run(_page(demo_dir, demo_store, monkeypatch))
    assert not at.exception
    assert at.title[0].value == tr("report_page")
    sections = at.multiselect(key="report_sections_zh")
    assert sections.value == ["summary", "table", "pillars", "lagging", "method", "appendix"]
    sections.set_value(["summary", "table"])
    at.button(key="build_docx").click()
    at = _run(at)
    assert not at.exception
    name, mime, body, _ = at.session_state["report_docx"]
    assert name.endswith(".docx") and body[:2] == b"PK"
    assert any(name in s.value for s in at.success)
    assert at.button(key="build_zip")      # a county offers the all-townships ZIP


def test_report_page_without_children_says_so(demo_dir, demo_store, monkeypatch):
    village = demo_store.hierarchy.leaves()[0].code
    at = _run(_page(demo_dir, demo_store, monkeypatch, region=village))
    assert not at.exception
    assert any(tr("report_children_none") in c.value for c in at.caption)


def test_chart_and_table_widgets_offer_their_exports(demo_dir, monkeypatch):
    monkeypatch.setenv("RRTT_DATA_DIR", str(demo_dir))
    at = AppTest.from_string(WIDGETS, default_timeout=60).run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    for key in ("export_dl_png", "export_dl_svg", "export_dl_pdf", "download_xlsx", "download_csv"):
        assert tr(key) in labels, key


def test_chart_menu_explains_a_missing_browser(demo_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("RRTT_DATA_DIR", str(demo_dir))
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    at = AppTest.from_string(WIDGETS, default_timeout=60).run()
    assert not at.exception
    assert any("apt-get install chromium" in w.value for w in at.warning)
    labels = [b.proto.label for b in at.get("download_button")]
    assert tr("export_dl_png") not in labels


STATIC = """
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pages import widgets
st.session_state.setdefault("built", 0)
def build():
    st.session_state["built"] += 1
    return go.Figure(go.Bar(x=["东风示范苏木"], y=[2]))
widgets.st_static_chart('<svg class="rr-chart" viewBox="0 0 10 10"></svg>', build, key="s", lang="zh",
                        trace={"title": "卫生厕所", "region": "示范旗", "period": "2024Q2", "snapshot": 9})
widgets.st_table(pd.DataFrame({"地区": ["<b>甲</b>"], "值": [1.5]}), stem="t", lang="zh", static=True)
"""


def test_static_chart_and_table_keep_their_exports_and_build_the_figure_only_on_click(demo_dir, monkeypatch):
    monkeypatch.setenv("RRTT_DATA_DIR", str(demo_dir))
    at = AppTest.from_string(STATIC, default_timeout=60).run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    for key in ("export_dl_png", "export_dl_svg", "export_dl_pdf", "download_xlsx", "download_csv"):
        assert tr(key) in labels, key
    assert at.session_state["built"] == 0          # drawing the page built no plotly figure
    # the SVG through st.markdown (st.html's sanitiser drops SVG), the table through st.html
    assert any('<svg class="rr-chart"' in m.value for m in at.markdown)
    html = at.html[0].value.replace("<wbr>", "")     # a line may break after a slash: no text
    assert "<th>地区</th>" in html and "&lt;b&gt;甲&lt;/b&gt;" in html and "<b>" not in html and '<td class=rr-num>1.5</td>' in html
    assert not at.dataframe


def test_chart_renderer_calls_the_builder_when_asked(monkeypatch):
    import plotly.graph_objects as go

    from pages import widgets
    calls = []

    def build():
        calls.append(1)
        return go.Figure(go.Bar(x=["甲"], y=[2]))

    monkeypatch.setattr(widgets.charts, "chart_bytes", lambda fig, fmt, **kw: f"{fmt}:{type(fig).__name__}".encode())
    render = widgets._chart_renderer(build, "svg", "卫生厕所", None)
    assert calls == []
    assert render() == b"svg:Figure" and calls == [1]
