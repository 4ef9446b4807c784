"""``python -m metrics`` through its real entry point; the four first-class indicators by hand."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, run_cli


@pytest.fixture(scope="module")
def status(demo_dir):
    out = run_cli("status", "--period", "2024Q2", "--plan", "demo-2021-2025", "--json", data_dir=demo_dir)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    return data, {row["indicator"]: row for row in data["indicators"]}


@pytest.fixture(scope="module")
def village_facts(demo_store):
    f = demo_store.current_facts()
    villages = {v.code for v in demo_store.hierarchy.leaves()}
    return f[f["region_code"].isin(villages)]


def total(f, element, period):
    return f[(f["element_code"] == element) & (f["period"] == period)]["value"].sum()


def test_status_reports_every_field_for_the_four(status):
    data, rows = status
    assert data["region"]["code"] == "990121000000" and data["period"] == "2024Q2" and data["demo"] is True
    for code in ("toilets_built", "road_good_rate", "chronic_followup_rate", "income_growth"):
        row = rows[code]
        # a relative target is judged per period (#7 point 8): no projection, p only with a base gap
        keys = ("value", "target", "expected", "status", "reason", "reason_zh", "reason_en", "basis")
        keys += () if row["target_kind"] == "relative" else ("p", "projection")
        for key in keys:
            assert row[key] is not None, (code, key)
        assert row["p"] is None or isinstance(row["p"], float)
        assert row["source"]["document"] and row["source"]["clause"]
    assert rows["toilets_built"]["basis"] == "cumulative" and rows["toilets_built"]["basis_zh"] == "累计"


def test_toilets_cumulative_against_milestones_by_hand(status, village_facts):
    row = status[1]["toilets_built"]
    built = sum(total(village_facts, "toilets_built", f"{y}Q{q}") for y in (2022, 2023) for q in (1, 2, 3, 4))
    built += total(village_facts, "toilets_built", "2024Q1") + total(village_facts, "toilets_built", "2024Q2")
    assert row["value"] == pytest.approx(built)
    # this year's milestone along the seasonal profile of 2022 and 2023 (#7 point 5), not pro rata
    h1 = [(total(village_facts, "toilets_built", f"{y}Q1") + total(village_facts, "toilets_built", f"{y}Q2"))
          / sum(total(village_facts, "toilets_built", f"{y}Q{q}") for q in (1, 2, 3, 4)) for y in (2022, 2023)]
    expected = 946 + 642 + 642 * sum(h1) / 2
    assert row["expected"] == pytest.approx(expected)
    assert row["target"] == 3193
    assert row["p"] == pytest.approx(built / float(f"{expected:.0f}"))   # as displayed (0 decimals)
    assert "季节" in row["reason_zh"]


def test_road_rate_by_hand(status, village_facts):
    row = status[1]["road_good_rate"]
    rate = lambda p: total(village_facts, "road_km_good", p) / total(village_facts, "road_km_total", p) * 100  # noqa: E731
    b, v = rate("2020Q4"), rate("2024Q2")
    e = b + (75 - b) * 14 / 20                     # 14 of the 20 quarters from 2020Q4 to 2025Q4
    assert row["value"] == pytest.approx(v)
    assert row["baseline"] == pytest.approx(b)
    assert row["expected"] == pytest.approx(e)
    shown = lambda x: float(f"{x:.1f}")                  # noqa: E731 - p from the numbers as displayed
    assert row["p"] == pytest.approx((shown(v) - shown(b)) / (shown(e) - shown(b)))
    assert row["status"] == {True: "on_track", False: row["status"]}[row["p"] >= 0.95]


def test_followup_rate_by_hand(status, village_facts):
    row = status[1]["chronic_followup_rate"]
    v = total(village_facts, "followups_done", "2024Q2") / total(village_facts, "followups_due", "2024Q2") * 100
    assert row["value"] == pytest.approx(v)
    assert row["target"] == 95


def test_income_growth_is_yoy_of_population_weighted_ytd(status, village_facts):
    row = status[1]["income_growth"]

    def per_capita(p):
        inc = village_facts[(village_facts["element_code"] == "income_pc_ytd") & (village_facts["period"] == p)]
        pop = village_facts[(village_facts["element_code"] == "population") & (village_facts["period"] == p)]
        m = inc.merge(pop, on="region_code")
        return (m["value_x"] * m["value_y"]).sum() / m["value_y"].sum()

    growth = (per_capita("2024Q2") / per_capita("2023Q2") - 1) * 100
    assert row["value"] == pytest.approx(growth)
    assert row["target_kind"] == "relative"
    assert row["target"] == pytest.approx(6.6)      # the demo benchmark for 2024
    assert [t["status"] for t in row["other_targets"] if t["target_id"] == "t_income_growth_2021"] in (["met"], ["not_met"])


def test_status_defaults_to_latest_quarter_and_its_plan(demo_dir):
    data = json.loads(run_cli("status", "--json", data_dir=demo_dir).stdout)
    assert data["period"] == "2026Q3" and data["plan"]["id"] == "demo-2026-2030"
    final = json.loads(run_cli("status", "--plan", "demo-2021-2025", "--json", data_dir=demo_dir).stdout)
    assert final["period"] == "2025Q4"
    assert {r["status"] for r in final["indicators"] if r["target_id"]} <= {"met", "not_met", "no_data"}


def test_status_mid_plan_has_variety(status):
    statuses = {r["status"] for r in status[0]["indicators"]}
    assert {"achieved", "on_track", "accelerate", "off_track", "regressing"} <= statuses


def test_bad_arguments_get_a_message_not_a_trace(demo_dir):
    out = run_cli("status", "--period", "2024-13", data_dir=demo_dir)
    assert out.returncode == 2 and "YYYYQn" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("status", "--region", "123", data_dir=demo_dir)
    assert out.returncode == 2 and "未知地区" in out.stderr


def test_catalog_json_lists_targets_with_sources():
    data = json.loads(run_cli("catalog", "--json").stdout)
    inds = {i["code"]: i for i in data["indicators"]}
    assert len(data["indicators"]) >= 30
    toilets = inds["toilets_built"]["targets"][0]
    assert toilets["milestones"] == {"2022": 946, "2023": 642, "2024": 642, "2025": 963}
    assert toilets["source"]["document"] == "001"


def test_snapshots_and_demo_refuses_to_overwrite(demo_dir):
    snaps = json.loads(run_cli("snapshots", "--json", data_dir=demo_dir).stdout)
    assert len(snaps) >= 6 and any(s["retracted"] for s in snaps)
    assert all(len(s["source_sha256"]) == 64 for s in snaps)
    again = run_cli("demo", data_dir=demo_dir)
    assert again.returncode == 1 and "--force" in again.stderr


def test_core_imports_without_streamlit():
    code = ("import sys, metrics.cli, metrics.store, metrics.query, metrics.demo, metrics.progress, "
            "metrics.catalog, metrics.charts, metrics.i18n, metrics.regions; "
            "assert 'streamlit' not in sys.modules, 'metrics imported streamlit'")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
