"""AppTest: the analyst pages drive the real core — upload with errors, fix, preview, publish,
history retract, targets upload. Sessions are signed in through tests/auth_support (an account in the data directory)."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from metrics import query
from metrics.auth import User
from metrics.ingest import targets
from metrics.store import Store
from tests.auth_support import sign_in
from tests.conftest import REPO

APP = str(REPO / "app.py")
BAD = b"region_code,element_code,period,value\n990121101201,road_km_good,2026Q3,40\n990121101202,road_km_good,2026Q3,abc\n"
GOOD = b"region_code,element_code,period,value\n990121101201,road_km_good,2026Q3,25\n990121101202,road_km_good,2026Q3,25\n"


@pytest.fixture
def data_dir(demo_dir, tmp_path, monkeypatch):
    d = tmp_path / "data"
    shutil.copytree(demo_dir, d)
    monkeypatch.setenv("RRTT_DATA_DIR", str(d))
    return d


def open_page(page: str, role: str = "analyst") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    sign_in(at, role=role, name=f"{role}1")
    at.query_params["period"] = "2026Q3"
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def road_status(store: Store, region: str) -> str:
    _, _, rows = query.assess_region(store, region, "2026Q3", None, ["road_good_rate"])
    return rows[0].assessment.status


def test_viewer_neither_sees_nor_opens_the_analyst_pages(data_dir):
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, role="viewer", name="leader")
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/upload.py")
    # opened directly (a deep link), the page itself refuses
    from pages.common import Filters
    direct = AppTest.from_file(str(REPO / "pages" / "upload.py"), default_timeout=60)
    sign_in(direct, role="viewer", name="leader")
    direct.session_state["_app_entry"] = True
    direct.session_state["filters"] = Filters("zh", "990121000000", "2026Q3", None, 0, str(data_dir))
    direct.run()
    assert any("无权" in e.value for e in direct.error)
    assert not direct.file_uploader


def test_upload_errors_fix_preview_publish(data_dir):
    store = Store(data_dir)
    before_version, root = store.version(), store.hierarchy.root.code
    before = road_status(store, root)
    at = open_page("pages/upload.py")
    assert at.title[0].value == "数据上传"
    at.file_uploader(key="upload_file").set_value(("bad.csv", BAD, "text/csv")).run()
    assert any("校验未通过" in e.value for e in at.error)
    errors = at.dataframe[0].value
    assert list(errors["行号"]) == [2, 3]
    assert set(errors["代码"]) == {"numerator_exceeds_denominator", "not_a_number"}
    assert not [b for b in at.button if b.key == "upload_publish"]      # nothing to publish
    assert Store(data_dir).version() == before_version

    at.file_uploader(key="upload_file").set_value(("good.csv", GOOD, "text/csv")).run()
    assert any("校验通过" in s.value for s in at.success)
    moves = at.dataframe[0].value
    assert "农村公路优良中等路率" in set(moves["指标"])
    banner = moves[moves["地区"] == store.hierarchy[root].name].iloc[0]
    assert banner["发布后"] != banner["发布前"]

    at.button(key="upload_publish").click().run()        # no comment: refused
    assert any("请填写发布说明" in e.value for e in at.error)
    assert Store(data_dir).version() == before_version
    at.text_input(key="upload_comment").input("路况更正").run()
    at.button(key="upload_publish").click().run()
    assert any("已发布" in s.value for s in at.success)
    after = Store(data_dir)
    assert after.version() != before_version
    assert after.snapshots()[-1].user == "analyst1" and after.snapshots()[-1].comment == "路况更正"
    assert road_status(after, root) != before


def test_history_lists_snapshots_and_retracts(data_dir):
    store = Store(data_dir)
    n = len(store.snapshots())
    at = open_page("pages/history.py")
    assert at.title[0].value == "数据版本"
    table = at.dataframe[0].value
    assert len(table) == n and {"上传人", "行数", "说明"} <= set(table.columns)
    newest = max(s.id for s in store.snapshots() if not s.retracted)
    at.selectbox(key="history_pick").set_value(newest).run()
    at.button(key="history_action").click().run()
    assert not at.exception
    assert any(f"已撤回数据版本 {newest}" in s.value for s in at.success)
    assert next(s for s in Store(data_dir).snapshots() if s.id == newest).retracted


def test_targets_page_uploads_a_target_version(data_dir):
    csv = ("region,indicator,kind,target_period,target_value,source_document,source_clause,source_quote\n"
           "990121101000,road_good_rate,threshold,2025,70,000,（七）,示例\n").encode()
    at = open_page("pages/targets.py")
    assert at.title[0].value == "目标管理"
    at.file_uploader(key="targets_file").set_value(("t.csv", csv, "text/csv")).run()
    assert any("校验通过" in s.value for s in at.success)
    at.text_input(key="targets_comment").input("分解到苏木").run()
    if [c for c in at.checkbox if c.key == "targets_ack"]:
        at.checkbox(key="targets_ack").check().run()
    at.button(key="targets_publish").click().run()
    assert any("已发布目标版本 1" in s.value for s in at.success)
    cat = targets.catalog_with_uploaded_targets(data_dir)
    assert any(t.region == "990121101000" and t.indicator == "road_good_rate" for t in cat.targets)


def _asof_script():
    import os

    import pandas as pd
    import streamlit as st

    from metrics.store import Store
    from pages.asof_ui import st_as_of_control
    view = st_as_of_control(Store(os.environ["RRTT_DATA_DIR"]), "zh")
    key = pd.DataFrame([("990121101201", "households", "2026Q3")], columns=["region_code", "element_code", "period"])
    st.write(f"value={view.current_values(key)['value'][0]:.1f} version={view.version()}")


def test_as_of_control_shows_an_earlier_snapshot(data_dir):
    from metrics.ingest import dryrun, publish
    store = Store(data_dir)
    key = ("990121101201", "households", "2026Q3")
    import pandas as pd
    before = store.current_values(pd.DataFrame([key], columns=["region_code", "element_code", "period"]))["value"][0]
    report = dryrun.check(store, f"region_code,element_code,period,value\n{','.join(key)},{before + 5}\n".encode(), "x.csv")
    snap = publish.publish(store, report, user=User("a", "analyst"), comment="c", acknowledge_warnings=True)
    at = AppTest.from_function(_asof_script, default_timeout=120).run()
    assert not at.exception
    assert f"value={before + 5:.1f}" in at.markdown[0].value
    at.sidebar.radio(key="asof_mode").set_value("snapshot").run()
    at.sidebar.selectbox(key="asof_snapshot").set_value(snap.id - 1).run()
    assert not at.exception
    assert f"value={before:.1f}" in at.markdown[0].value and "asof" in at.markdown[0].value
    assert any(f"#{snap.id - 1}" in c.value for c in at.sidebar.caption)


def test_upload_page_in_english(data_dir):
    """The page on its own with the filters app.py would hand it (AppTest keeps no sidebar state
    across a page switch), in English."""
    from pages.common import Filters
    at = AppTest.from_file(str(REPO / "pages" / "upload.py"), default_timeout=120)
    sign_in(at, role="analyst", name="analyst1")
    at.session_state["_app_entry"] = True
    at.session_state["filters"] = Filters("en", "990121000000", "2026Q3", None, Store(data_dir).version(), str(data_dir))
    at.run()
    assert at.title[0].value == "Upload"
    at.session_state["_app_entry"] = True
    at.file_uploader(key="upload_file").set_value(("bad.csv", BAD, "text/csv")).run()
    assert not at.exception
    assert any("Not valid" in e.value for e in at.error)
    errors = at.dataframe[0].value
    assert list(errors["Row"]) == [2, 3] and "not a number" in " ".join(errors["Message"])


def test_a_targets_publish_elsewhere_reaches_the_cached_assessments(data_dir):
    """Targets change the statuses without a new store version. A targets publish made by another
    process (the CLI, another replica) must reach the pages' cached assessments at their next rerun."""
    from pages import common
    store = Store(data_dir)
    key = (str(data_dir), store.version(), "990121101000", "2025Q4", "demo-2021-2025")

    def road_target():
        rows = common.cached_assess_region(*key)
        return next(r.target.target_value for r in rows if r.indicator.code == "road_good_rate")

    common.drop_assessments_if_targets_changed(str(data_dir))
    before = road_target()
    csv = ("region,indicator,kind,target_period,target_value,source_document,source_clause,source_quote\n"
           f"990121101000,road_good_rate,threshold,2025,{before - 5:g},000,（七）,示例\n").encode()
    result = targets.check(store, csv, "t.csv")
    assert result.errors.empty
    targets.publish(store.dir, result, user=User("cli:root", "admin"), comment="分解")
    assert road_target() == before          # still the cached answer: nothing told this process yet
    assert common.drop_assessments_if_targets_changed(str(data_dir))   # the page's next rerun looks
    assert road_target() == before - 5
    assert not common.drop_assessments_if_targets_changed(str(data_dir))
