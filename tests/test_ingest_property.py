"""Property: random malformed files never raise anything but a validation report, and never change
the published state (a file with any error cannot be published)."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.auth import User
from metrics.ingest import dryrun, publish
from metrics.ingest.report import Report

CODES = ["990121101201", "990121101202", "东风前进示范嘎查", "城关镇", "990199999999", "", "合计", "=cmd()", "9.90121E+11"]
ELEMENTS = ["toilets_built", "households", "road_km_good", "road_km_total", "bench_close_linkage_rate", "新建卫生厕所",
            "xx", "", "常住户数（户）"]
PERIODS = ["2024Q2", "2024年第二季度", "2024Q5", "2099Q1", "", "Q3", "2024-Q1", "二〇二四"]
VALUES = ["12", "1,234", "85%", "８５", " 7 ", "-3", "abc", "", "1e400", "nan", "120", "0.5", "１２３，４"]
cell = st.one_of(st.sampled_from(CODES + ELEMENTS + PERIODS + VALUES), st.text(max_size=8))
HEADERS = st.lists(st.sampled_from(["region_code", "element_code", "period", "value", "地区名称", "季度", "数值",
                                    "新建卫生厕所（座）", "备注", "", "区划代码"]), min_size=1, max_size=6)


@st.composite
def csv_files(draw) -> bytes:
    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 2), max_size=12))
    sep = draw(st.sampled_from([",", "\t", ";"]))
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


files = st.one_of(csv_files(), st.binary(max_size=300),
                  st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
                  st.binary(max_size=200).map(lambda b: b"\xef\xbb\xbf" + b))


@pytest.fixture(scope="module")
def store(demo_dir, tmp_path_factory):
    from metrics.store import Store
    d = tmp_path_factory.mktemp("prop") / "data"
    shutil.copytree(demo_dir, d)
    return Store(d)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=files)
def test_malformed_files_only_ever_get_a_report(store, data):
    version, n = store.version(), len(store.snapshots())
    report = dryrun.check(store, data, "random.csv")
    assert isinstance(report, Report)
    as_json = report.to_dict()
    assert as_json["ok"] == (not as_json["errors"])
    for issue in as_json["errors"] + as_json["warnings"]:
        assert issue["code"] and issue["message"] and isinstance(issue["row"], int)
    if not report.ok:
        with pytest.raises(publish.PublishRefused):
            publish.publish(store, report, user=User("a", "analyst"), comment="c", acknowledge_warnings=True)
    else:   # whatever was accepted is a clean, finite, in-range number for a known key
        f = report.facts
        assert f["value"].notna().all() and (f["value"].abs() < float("inf")).all()
        assert f["region_code"].isin(list(store.hierarchy.by_code)).all()
        assert f["element_code"].isin(list(store.catalog.elements)).all()
    assert store.version() == version and len(store.snapshots()) == n
