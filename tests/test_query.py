"""query: the basis every number is shown in, levels, and the status JSON's reason fields."""

import json

import pandas as pd
import pytest

from metrics import query
from metrics.auth import User
from metrics.regions import parse_regions_csv
from metrics.store import Store
from tests.conftest import run_cli

REGIONS = """code,name,level,parent
990000000000,测试县,county,
990000100000,甲镇,township,990000000000
990000100201,甲一村,village,990000100000
"""
VILLAGE = "990000100201"


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))


def publish(store, rows):
    frame = pd.DataFrame(rows, columns=["region_code", "element_code", "period", "value"])
    store.publish(frame, user=User("测试", "analyst"), comment="c", source_name="f.csv", source_sha256="0")


def test_cumulative_series_stops_at_a_missing_quarter(store):
    # toilets count from 2022Q1 (first milestone year); 2023Q2 was never reported
    quarters = [f"{y}Q{q}" for y in (2022, 2023) for q in (1, 2, 3, 4) if f"{y}Q{q}" != "2023Q2"]
    publish(store, [(VILLAGE, "toilets_built", q, 10.0) for q in quarters])
    plan = store.catalog.plans["demo-2021-2025"]
    _, _, rows = query.assess_region(store, VILLAGE, "2023Q4", plan.id, ["toilets_built"])
    row = rows[0]
    assert row.series[-1] == ("2023Q1", 50.0)         # no total after the gap, never a gap counted as 0
    assert row.current is None
    assert row.assessment.missing_quarters == ["2023Q2"] and row.to_dict()["reason"] == "missing_quarters"
    assert "2023年二季度" in row.to_dict()["reason_zh"]


def test_year_to_date_has_no_quarter_on_quarter_delta(store):
    publish(store, [(VILLAGE, "income_pc_ytd", p, v) for p, v in
                    (("2023Q2", 8000.0), ("2023Q4", 16000.0), ("2024Q1", 4200.0), ("2024Q2", 8600.0))]
            + [(VILLAGE, "population", p, 100.0) for p in ("2023Q2", "2023Q4", "2024Q1", "2024Q2")])
    _, _, rows = query.assess_region(store, VILLAGE, "2024Q2", "demo-2021-2025", ["income_pc"])
    row = rows[0]
    assert row.basis == "ytd" and row.change_quarter is None
    assert row.change_year == pytest.approx(600.0)     # the same quarter a year earlier


def test_natural_limits(store):
    cat = store.catalog
    assert cat.natural_limits(cat.indicators["road_good_rate"]) == (0.0, 100.0)
    assert cat.natural_limits(cat.indicators["income_growth"]) == (None, None)
    assert cat.natural_limits(cat.indicators["toilets_built"]) == (0.0, None)


def test_status_json_carries_reason_basis_and_p(demo_dir):
    out = run_cli("status", "--period", "2024Q2", "--plan", "demo-2021-2025", "--json", data_dir=demo_dir)
    rows = json.loads(out.stdout)["indicators"]
    for row in rows:
        assert row["reason"] and row["reason_zh"] and row["reason_en"], row["indicator"]
        assert row["basis"] in ("stock", "cumulative", "flow", "ytd")
        assert row["p"] is None or isinstance(row["p"], float)
        assert row["p"] != -1.0                        # no sentinels
        assert "\n" not in row["reason_zh"]
    text = run_cli("status", "--period", "2024Q2", "--plan", "demo-2021-2025", data_dir=demo_dir).stdout
    assert "累计" in text and "进度为应达的" in text


def test_chart_expected_path_agrees_with_the_card(demo_store):
    plan = demo_store.catalog.plans["demo-2021-2025"]
    root = demo_store.hierarchy.root.code
    _, _, rows = query.assess_region(demo_store, root, "2024Q2", plan.id, ["toilets_built"])
    row = rows[0]
    from metrics import progress
    path = progress.milestone_path(row.target, row.measured, ["2024Q2"])
    assert path[0] == pytest.approx(row.assessment.expected)
    assert row.assessment.expected_mode == "seasonal"


def test_series_points_are_built_when_read_and_equal_the_eager_lists():
    import copy
    import pickle

    import numpy as np

    from metrics.values import Points, series_of
    quarters = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]
    nan = np.nan
    values = np.array([[nan, 1.0, 2.0, 3.0, nan],     # whole between the first and last used columns
                       [nan, nan, 5.0, nan, nan],     # a gap
                       [nan, nan, nan, nan, nan],     # nothing
                       [nan, 7.0, nan, 8.0, nan]])
    rows = series_of(quarters, values)
    values[:] = -1.0                                  # the caller's array changes: the points do not
    assert all(isinstance(r, Points) and r._list is None for r in rows)
    # the last point read without building the list (the column of 2025Q1 holds nothing)
    assert [r.last_at("2024Q4") for r in rows] == [3.0, None, None, 8.0]
    assert [r.last_at("2025Q1") for r in rows] == [None] * 4
    assert all(r._list is None for r in rows)
    expected = [[("2024Q2", 1.0), ("2024Q3", 2.0), ("2024Q4", 3.0)], [("2024Q3", 5.0)], [],
                [("2024Q2", 7.0), ("2024Q4", 8.0)]]
    assert rows == expected and expected == rows and [list(r) for r in rows] == expected
    assert [len(r) for r in rows] == [3, 1, 0, 2] and [bool(r) for r in rows] == [True, True, False, True]
    assert rows[0][-1] == ("2024Q4", 3.0) and dict(rows[3]) == {"2024Q2": 7.0, "2024Q4": 8.0}
    assert repr(rows[1]) == "[('2024Q3', 5.0)]"
    # pickled (Streamlit's cache) or copied, a plain list
    assert pickle.loads(pickle.dumps(rows)) == expected
    assert type(pickle.loads(pickle.dumps(rows[0]))) is list and type(copy.deepcopy(rows[0])) is list


def test_a_top_overview_builds_the_points_it_reads_only(demo_store):
    """Targeted indicators are judged from the grid, untargeted ones read their last point: the
    statuses' series stay unbuilt until a page reads them."""
    from metrics.values import Points
    plan, period = query.resolve_plan(demo_store, None, None)
    root = demo_store.hierarchy.root.code
    rows = [s for statuses in query.assess_many(demo_store, [root] + [c.code for c in
            demo_store.hierarchy.children(root)], period, plan).values() for s in statuses]
    lazy = [s.series for s in rows if isinstance(s.series, Points)]
    assert len(lazy) > 0.9 * len(rows) and all(p._list is None for p in lazy)
    assert any(s.current is not None for s in rows)
