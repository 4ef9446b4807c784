"""The pages' core calls give exactly what the scalar path gave (issue 9's batch path).

``tests/reference_query.py`` is the query module as it was before the batch path (region by region,
``progress.assess`` per target); here both answer the same calls on the demo data and on a county-scale
synthetic store, and every status must have the same ``repr`` (floats compared exactly) and the same
``to_dict()`` (the reasons in both languages).
"""

from __future__ import annotations

import numpy as np
import pytest

from metrics import periods, progress_batch, query
from metrics.bench import data as bench_data
from metrics.bench import page_calls
from metrics.catalog import default_catalog
from metrics.store import Store
from tests import reference_query as ref


def differences(new: dict[str, list], old: dict[str, list]) -> list[str]:
    """Where two {region: [IndicatorStatus, …]} answers differ (empty: identical)."""
    if list(new) != list(old):
        return [f"regions {list(new)} != {list(old)}"]
    out = []
    for region in new:
        a, b = new[region], old[region]
        if [s.indicator.code for s in a] != [s.indicator.code for s in b]:
            out.append(f"{region}: indicators differ")
            continue
        for x, y in zip(a, b):
            if repr(x) != repr(y) or x.to_dict() != y.to_dict():
                out.append(f"{region} {x.indicator.code}: {x.assessment!r} != {y.assessment!r}")
    return out


def compare_many(store, regions: list[str], period: str, plan) -> list[str]:
    return differences(query.assess_many(store, regions, period, plan), ref.assess_many(store, regions, period, plan))


@pytest.fixture(scope="module")
def county_store(tmp_path_factory) -> Store:
    """The bench's county-scale synthetic store (~170 villages, 2021Q1–2025Q4; the plan's base
    2020Q4 has no value, so every baseline falls back to the first observed quarter)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(bench_data.CACHE_ENV, str(tmp_path_factory.mktemp("bench-cache")))
    try:
        cat = default_catalog()
        data_dir, hierarchy, _ = bench_data.prepare("county", cat)
    finally:
        mp.undo()
    return Store(data_dir, catalog=cat, hierarchy=hierarchy)


def _sample(store) -> list[str]:
    """Every level: the top, its children, some leaves, a region listed twice."""
    h = store.hierarchy
    root = h.root.code
    children = [c.code for c in h.children(root)]
    leaves = [r.code for r in h.leaves()]
    return [root] + children + leaves[:: max(1, len(leaves) // 12)] + [children[0]]


@pytest.mark.parametrize("plan_id", ["demo-2021-2025", "demo-2026-2030"])
def test_demo_every_region_every_other_quarter(demo_store, plan_id):
    plan = demo_store.catalog.plans[plan_id]
    regions = [r.code for r in demo_store.hierarchy.in_order()]
    for period in periods.period_range("2020Q1", "2026Q3")[::2] + ["2025Q4", "2030Q4"]:
        assert compare_many(demo_store, regions, period, plan) == [], period


@pytest.mark.parametrize("plan_id", ["demo-2021-2025", "demo-2026-2030"])
@pytest.mark.parametrize("period", ["2020Q4", "2021Q1", "2021Q2", "2022Q4", "2023Q3", "2025Q4"])
def test_county_scale(county_store, plan_id, period):
    plan = county_store.catalog.plans[plan_id]
    assert compare_many(county_store, _sample(county_store), period, plan) == []


def test_indicator_subsets_and_single_regions(county_store, demo_store):
    for store in (county_store, demo_store):
        plan, period = query.resolve_plan(store, None, None)
        codes = list(store.catalog.indicators)
        subsets = [codes[:1], codes[5:9], [c for c, i in store.catalog.indicators.items() if i.kind == "yoy_growth"],
                   [c for c, i in store.catalog.indicators.items() if i.basis in ("cumulative", "ytd")]]
        for subset in subsets:
            new = query.assess_many(store, _sample(store), period, plan, subset)
            old = ref.assess_many(store, _sample(store), period, plan, subset)
            assert differences(new, old) == []
        leaf = store.hierarchy.leaves()[0].code
        assert differences({"r": query.assess_region(store, leaf)[2]}, {"r": ref.assess_region(store, leaf)[2]}) == []


class _RowsOnly:
    """A store that answers ``rollup_arrays`` but not ``rollup_cells`` (like an upload's preview)."""

    def __init__(self, store):
        self._store = store
        self.catalog, self.hierarchy = store.catalog, store.hierarchy

    def rollup_arrays(self, *args):
        return self._store.rollup_arrays(*args)


def test_rows_only_store_and_as_of_view(county_store, demo_store):
    for store in (county_store, demo_store):
        plan, period = query.resolve_plan(store, None, None)
        regions = _sample(store)
        assert compare_many(_RowsOnly(store), regions, period, plan) == []
        assert differences(query.assess_many(_RowsOnly(store), regions, period, plan),
                           query.assess_many(store, regions, period, plan)) == []
    view = demo_store.at(snapshot=1)
    plan, period = query.resolve_plan(view, None, None)
    assert compare_many(view, _sample(view), period, plan) == []


def test_rollup_cells_are_the_rollup_rows(county_store):
    store = county_store
    h = store.hierarchy
    regions = _sample(store)[:-1]
    codes = sorted({c for i in store.catalog.indicators.values() for c in query.rollup_code(i)})[::3]
    quarters = periods.period_range("2020Q4", "2025Q4")
    value, weight = store.rollup_cells(regions, codes, quarters)
    rows = store.rollup_arrays(regions, codes, quarters[0], quarters[-1])
    expected_value, expected_weight = np.full(value.shape, np.nan), np.full(value.shape, np.nan)
    for r, e, p, v, w in zip(rows["region_code"], rows["element_code"], rows["period"], rows["value_sum"],
                             rows["weight_sum"]):
        cell = codes.index(e), regions.index(r), quarters.index(p)
        expected_value[cell], expected_weight[cell] = v, w
    assert len(rows["region_code"]) > 1000 and h.root.code == regions[0]
    assert any(r in store.layout.leaves for r in regions)          # both paths: shard tables and SQL
    np.testing.assert_array_equal(value, expected_value)
    np.testing.assert_array_equal(weight, expected_weight)


@pytest.mark.parametrize("which", ["county", "demo"])
def test_the_bench_page_calls(county_store, demo_store, which, monkeypatch):
    """Exactly the calls each page makes (``metrics.bench.page_calls``), old and new."""
    import metrics

    store = county_store if which == "county" else demo_store
    new_calls = dict(page_calls(store))
    with monkeypatch.context() as m:
        m.setattr(metrics, "query", ref)        # page_calls binds ``from metrics import query``
        old_calls = dict(page_calls(store))
    assert new_calls.keys() == old_calls.keys()
    cells = [c.cell_contents for c in old_calls["overview/top"].__closure__]
    assert ref in cells and query not in cells
    for name in new_calls:
        new, old = new_calls[name](), old_calls[name]()
        assert repr(new) == repr(old), name


# -- the comparison catches a wrong answer ----------------------------------------------------------
def test_a_perturbed_value_is_caught(county_store, monkeypatch):
    plan, period = query.resolve_plan(county_store, None, None)
    regions = _sample(county_store)[:4]
    real = progress_batch.assess_jobs

    def off_by_a_little(quarters, t, base, jobs):
        for job in jobs:
            job.values = np.nextafter(job.values, np.inf)       # one unit in the last place
        return real(quarters, t, base, jobs)

    monkeypatch.setattr(progress_batch, "assess_jobs", off_by_a_little)
    found = compare_many(county_store, regions, period, plan)
    assert found and all("!=" in d for d in found)


def test_a_wrong_status_is_caught(demo_store, monkeypatch):
    plan, period = query.resolve_plan(demo_store, None, None)
    real = progress_batch.assess_jobs

    def one_status_changed(*a, **k):
        out = real(*a, **k)
        first = next(rows[0] for rows in out if rows)
        first.status = "on_track" if first.status != "on_track" else "accelerate"
        return out

    monkeypatch.setattr(progress_batch, "assess_jobs", one_status_changed)
    assert compare_many(demo_store, [demo_store.hierarchy.root.code], period, plan)


def test_settle_freezes_the_start_up_objects_once():
    """The app and the bench settle once their store is loaded (metrics/process.py): the start-up
    objects leave the collector's walks, a page call runs without collector passes over what it
    builds; a second call changes nothing."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import gc; from metrics import process; process.settle(); n = gc.get_freeze_count(); "
            "keep = [[] for _ in range(1000)]; process.settle(); "
            "assert n > 1000 and gc.get_freeze_count() == n, (n, gc.get_freeze_count()); "
            # a top page call's ~7·10⁴ containers fit between two collections (they hold no cycles)
            "assert gc.get_threshold()[0] == process.GEN0_THRESHOLD >= 70_000, gc.get_threshold()")
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, check=True)


@pytest.mark.parametrize("period", ["2021Q2", "2024Q2", "2026Q3"])
def test_provenance_many_is_provenance_per_indicator(demo_store, period):
    """The report reads every indicator's provenance in one query: the same snapshots as one by one."""
    codes = list(demo_store.catalog.indicators)
    for region in [demo_store.hierarchy.root.code] + [c.code for c in demo_store.hierarchy.children(
            demo_store.hierarchy.root.code)][:2]:
        many = query.provenance_many(demo_store, region, period, codes)
        one = {c: query.provenance(demo_store, region, period, c) for c in codes}
        assert {c: s and s.id for c, s in many.items()} == {c: s and s.id for c, s in one.items()}
        assert any(s is not None for s in many.values())     # the comparison is not between two Nones
