"""The snapshot store: newest snapshot wins, retraction, atomic publish, rollups = ratio of sums."""

import json
import threading

import pandas as pd
import pytest

from metrics import query
from metrics.auth import PermissionDenied, User
from metrics.regions import parse_regions_csv
from metrics.store import Store, StoreError
from metrics.store import shards as shards_mod

REGIONS = """code,name,level,parent
990000000000,测试县,county,
990000100000,甲镇,township,990000000000
990000100201,甲一村,village,990000100000
990000100202,甲二村,village,990000100000
990000200000,乙镇,township,990000000000
990000200201,乙一村,village,990000200000
"""


def facts(rows):
    return pd.DataFrame(rows, columns=["region_code", "element_code", "period", "value"])


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))


ANALYST = User("测试", "analyst")


def publish(store, rows, name="f.csv"):
    return store.publish(facts(rows), user=ANALYST, comment="c", source_name=name, source_sha256="0")


def test_ratio_at_every_level_is_ratio_of_sums(store):
    publish(store, [
        ("990000100201", "road_km_total", "2024Q2", 10.0), ("990000100201", "road_km_good", "2024Q2", 9.0),
        ("990000100202", "road_km_total", "2024Q2", 90.0), ("990000100202", "road_km_good", "2024Q2", 45.0),
        ("990000200201", "road_km_total", "2024Q2", 50.0), ("990000200201", "road_km_good", "2024Q2", 40.0),
    ])
    v = query.indicator_values(store, ["990000000000", "990000100000"], ["road_good_rate"])
    by_region = dict(zip(v["region_code"], v["value"]))
    assert by_region["990000100000"] == pytest.approx(54 / 100 * 100)      # not mean(90%, 50%) = 70%
    assert by_region["990000000000"] == pytest.approx(94 / 150 * 100)


def test_weighted_mean_per_capita_income(store):
    publish(store, [
        ("990000100201", "income_pc_ytd", "2024Q2", 10000.0), ("990000100201", "population", "2024Q2", 100.0),
        ("990000100202", "income_pc_ytd", "2024Q2", 20000.0), ("990000100202", "population", "2024Q2", 300.0),
    ])
    v = query.indicator_values(store, ["990000100000"], ["income_pc"])
    assert v["value"].iloc[0] == pytest.approx((10000 * 100 + 20000 * 300) / 400)


def test_newest_snapshot_wins_and_retraction_restores(store):
    first = publish(store, [("990000100201", "toilets_built", "2024Q2", 5.0)], "a.csv")
    second = publish(store, [("990000100201", "toilets_built", "2024Q2", 7.0)], "b.csv")
    value = lambda: query.indicator_values(store, ["990000000000"], ["toilets_built"])["value"].iloc[0]  # noqa: E731
    assert value() == 7
    v_before = store.version()
    store.retract(second.id, user=ANALYST)
    assert value() == 5 and store.version() == v_before + 1
    assert [s.retracted for s in store.snapshots()] == [False, True]
    assert store.snapshots()[1].retracted_by == "测试"
    with pytest.raises(StoreError):
        store.retract(second.id, user=ANALYST)
    store.restore(second.id, user=ANALYST)
    assert value() == 7 and not store.snapshots()[1].retracted
    with pytest.raises(StoreError):
        store.restore(second.id, user=ANALYST)
    # nothing is deleted: both snapshots' rows stay in the fact log
    logged = store.log.facts_dataset().to_table().to_pandas()
    assert first.id == 1 and set(logged["snapshot_id"]) == {1, 2}


def test_writes_require_an_analyst(store):
    viewer = User("看客", "viewer")
    with pytest.raises(PermissionDenied):
        store.publish(facts([("990000100201", "toilets_built", "2024Q2", 5.0)]), user=viewer, comment="c",
                      source_name="f.csv", source_sha256="0")
    first = publish(store, [("990000100201", "toilets_built", "2024Q2", 5.0)])
    with pytest.raises(PermissionDenied):
        store.retract(first.id, user=viewer)
    assert len(store.snapshots()) == 1 and not store.snapshots()[0].retracted
    audit = [json.loads(line) for line in (store.dir / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["user"], a["snapshot_id"]) for a in audit] == [("publish", "测试", first.id)]


def test_coverage_counts_units_with_at_least_one(store):
    publish(store, [("990000100201", "village_clinics", "2024Q2", 2.0),
                    ("990000100202", "village_clinics", "2024Q2", 0.0),
                    ("990000200201", "village_clinics", "2024Q2", 1.0)])
    ind = next(i for i in store.catalog.indicators.values()
               if i.kind == "coverage" and i.formula["element"] == "village_clinics")
    v = query.indicator_values(store, ["990000000000"], [ind.code])
    assert v["value"].iloc[0] == pytest.approx(200 / 3)


def test_failed_publish_leaves_previous_state(store, monkeypatch):
    publish(store, [("990000100201", "toilets_built", "2024Q2", 5.0)])
    manifest = json.loads(store.manifest_path.read_text())

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(shards_mod, "apply", crash)
    with pytest.raises(OSError):
        publish(store, [("990000100201", "toilets_built", "2024Q2", 99.0)])
    assert json.loads(store.manifest_path.read_text()) == manifest
    assert query.indicator_values(store, ["990000000000"], ["toilets_built"])["value"].iloc[0] == 5


def test_concurrent_publishers_never_interleave(store):
    errors = []

    def worker(i):
        try:
            publish(store, [("990000100201", "toilets_built", f"2024Q{i % 4 + 1}", float(i))], f"{i}.csv")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = [s.id for s in store.snapshots()]
    assert sorted(ids) == list(range(1, 7)) and store.version() == 6


def test_demo_banner_ratio_equals_sum_of_villages(demo_store):
    """At banner level the road rate is Σ good km ÷ Σ total km over its villages."""
    f = demo_store.current_facts()
    q = f[f["period"] == "2024Q2"].pivot_table(index="region_code", columns="element_code", values="value")
    villages = [v.code for v in demo_store.hierarchy.leaves()]
    expected = q.loc[villages, "road_km_good"].sum() / q.loc[villages, "road_km_total"].sum() * 100
    mean_of_ratios = (q.loc[villages, "road_km_good"] / q.loc[villages, "road_km_total"]).mean() * 100
    v = query.indicator_values(demo_store, [demo_store.hierarchy.root.code], ["road_good_rate"], "2024Q2", "2024Q2")
    assert v["value"].iloc[0] == pytest.approx(expected)
    assert abs(expected - mean_of_ratios) > 1e-6          # the test can tell the two apart


def test_overview_in_one_query_equals_region_and_children(demo_store):
    plan = demo_store.catalog.plans["demo-2021-2025"]
    root = demo_store.hierarchy.root.code
    own, children = query.assess_overview(demo_store, root, "2024Q2", plan)
    _, _, alone = query.assess_region(demo_store, root, "2024Q2", plan.id)
    subs = query.assess_subregions(demo_store, root, "2024Q2", plan)
    assert [r.assessment for r in own] == [r.assessment for r in alone]
    assert {c: [r.assessment for r in rows] for c, rows in children.items()} == \
        {c: [r.assessment for r in rows] for c, rows in subs.items()}
    assert len(children) == 8
