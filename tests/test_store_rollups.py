"""Incremental rollups equal a full rebuild and a plain-pandas oracle; as-of reads replay history;
``aggregation: none`` never sums upward. Run with the quarter in one shard and split per subtree."""

import copy
import dataclasses

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from metrics.auth import User
from metrics.catalog import default_catalog
from metrics.regions import parse_regions_csv
from metrics.store import Store, StoreView
from metrics.store import rollups as rollups_mod
from metrics.store import shards as sh
from metrics.store.log import replay
from metrics.store.reader import ShardReader

ANALYST = User("测试", "analyst")
REGIONS = """code,name,level,parent
990000000000,测试县,county,
990000100000,甲镇,township,990000000000
990000100201,甲一村,village,990000100000
990000100202,甲二村,village,990000100000
990000200000,乙镇,township,990000000000
990000200201,乙一村,village,990000200000
990000200202,乙二村,village,990000200000
"""
HIERARCHY = parse_regions_csv(REGIONS)
ROOT, TOWN_A, TOWN_B = "990000000000", "990000100000", "990000200000"
VILLAGES = ["990000100201", "990000100202", "990000200201", "990000200202"]
BENCH = "bench_growth"


def catalog_with_none():
    """The real catalog plus a benchmark element with ``aggregation: none``."""
    cat = copy.deepcopy(default_catalog())
    some = next(iter(cat.elements.values()))
    cat.elements[BENCH] = dataclasses.replace(some, code=BENCH, aggregation="none", weight=None,
                                              role="benchmark")
    return cat


CATALOG = catalog_with_none()


@pytest.fixture(params=[0, 1], ids=["one-shard", "split"])
def split(request, monkeypatch):
    monkeypatch.setattr(rollups_mod, "SPLIT_REGIONS", 10_000 if request.param == 0 else 0)
    return request.param


def make_store(path):
    return Store(path, catalog=CATALOG, hierarchy=parse_regions_csv(REGIONS))


def frame(rows):
    return pd.DataFrame(rows, columns=["region_code", "element_code", "period", "value"])


def all_rows(root, shards, table: str = "rollup") -> pd.DataFrame:
    """Every row of ``table`` in the shard set: ``rollup``, or ``upper`` (the rows of regions with
    children, which the pages load whole: each shard must hold all of its own)."""
    files = [root / rel for groups in shards.values() for rel in groups.values()]
    cols = list(rollups_mod.ROLLUP_COLUMNS)
    if not files:
        return pd.DataFrame(columns=cols)
    out = ShardReader.get().query(files, table, ", ".join(cols), "true", {}, "region_code, element_code, period")
    return pd.DataFrame({k: (list(v) if i < 3 else np.ma.filled(np.ma.asarray(v, dtype=float), np.nan))
                         for i, (k, v) in enumerate(out.items())})[cols].reset_index(drop=True)


def view_rows(view) -> pd.DataFrame:
    return all_rows(view._shard_root(), view._shards())


def assert_same(a: pd.DataFrame, b: pd.DataFrame):
    assert len(a) == len(b), (a, b)
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    for col in ("region_code", "element_code", "period"):
        assert a[col].tolist() == b[col].tolist()
    for col in ("value_sum", "weight_sum", "n_facts", "snapshot_id"):
        pd.testing.assert_series_equal(a[col].astype(float), b[col].astype(float), check_names=False, rtol=1e-9)


def oracle_sums(facts: pd.DataFrame, element: str) -> dict[tuple[str, str], float]:
    """Plain pandas: the sum of a sum-element's current facts over each region's subtree."""
    out: dict[tuple[str, str], float] = {}
    for r in facts[facts["element_code"] == element].itertuples():
        for region in [r.region_code] + [a.code for a in HIERARCHY.ancestors(r.region_code)]:
            out[(region, r.period)] = out.get((region, r.period), 0.0) + r.value
    return out


def test_aggregation_none_stays_on_its_own_region(tmp_path, split):
    store = make_store(tmp_path)
    store.publish(frame([(ROOT, BENCH, "2024Q2", 6.5), ("990000100201", "toilets_built", "2024Q2", 3.0)]),
                  user=ANALYST, comment="", source_name="a.csv", source_sha256="0")
    store.publish(frame([(TOWN_A, BENCH, "2024Q2", 9.9)]), user=ANALYST, comment="", source_name="b.csv",
                  source_sha256="0")
    rows = store.rollup_rows([ROOT, TOWN_A, TOWN_B], [BENCH, "toilets_built"])
    bench = {r.region_code: r.value_sum for r in rows.itertuples() if r.element_code == BENCH}
    # the township's own benchmark does not change the county's; nothing is summed upward
    assert bench == {ROOT: 6.5, TOWN_A: 9.9}
    toilets = {r.region_code: r.value_sum for r in rows.itertuples() if r.element_code == "toilets_built"}
    assert toilets == {ROOT: 3.0, TOWN_A: 3.0}      # while sums do go up


OPS = st.lists(st.one_of(
    st.tuples(st.just("publish"),
              st.lists(st.tuples(st.sampled_from(VILLAGES + [TOWN_A, ROOT]),
                                 st.sampled_from(["toilets_built", "population", "income_pc_ytd",
                                                  "village_clinics", BENCH]),
                                 st.sampled_from(["2024Q1", "2024Q2"]),
                                 st.integers(0, 50)), min_size=1, max_size=8)),
    st.tuples(st.just("retract"), st.integers(0, 5)),
    st.tuples(st.just("restore"), st.integers(0, 5)),
), min_size=1, max_size=7)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_incremental_rollups_equal_rebuild_and_as_of_replays(tmp_path_factory, split, ops):
    store = make_store(tmp_path_factory.mktemp("prop"))
    seen: dict[int, pd.DataFrame] = {0: all_rows(store.shard_dir, store.manifest()["shards"])}
    for op, arg in ops:
        snaps = store.snapshots()
        if op == "publish":
            store.publish(frame([(r, e, p, float(v)) for r, e, p, v in arg]), user=ANALYST, comment="",
                          source_name="x.csv", source_sha256="0")
        else:
            want = [s for s in snaps if s.retracted == (op == "restore")]
            if not want:
                continue
            getattr(store, op)(want[arg % len(want)].id, user=ANALYST)
        live = all_rows(store.shard_dir, store.manifest()["shards"])
        seq = store.manifest()["event_seq"]
        seen[seq] = live
        # incremental == full rebuild from the log
        active = replay(store.log.events())
        rebuilt_dir = tmp_path_factory.mktemp("rebuilt")
        rebuilt = sh.rebuild(rebuilt_dir, store.layout, store.log, active, "check")
        assert_same(live, all_rows(rebuilt_dir, rebuilt))
        assert_same(all_rows(store.shard_dir, store.manifest()["shards"], "upper"), all_rows(rebuilt_dir, rebuilt, "upper"))
        # and == a plain pandas sum over the subtree of the current facts
        facts = store.current_facts()
        expect = oracle_sums(facts, "toilets_built")
        got = {(r.region_code, r.period): r.value_sum for r in live.itertuples() if r.element_code == "toilets_built"}
        assert got == pytest.approx(expect)
    # as-of reads give the state recorded after each event
    for seq, rows in seen.items():
        assert_same(view_rows(StoreView(store, seq)), rows)


@pytest.mark.parametrize("cache_bytes", [0, 1, 200_000])
def test_rows_beyond_the_upper_cache_are_read_by_sql_and_equal(demo_store, monkeypatch, cache_bytes):
    """Shards that do not fit the in-memory cache are read with SQL: the same rows, same order,
    whichever mix of cached and uncached shards a call meets (a full cache first, as the pages have)."""
    regions = [demo_store.hierarchy.root.code] + [r.code for r in demo_store.hierarchy.children(
        demo_store.hierarchy.root.code)]
    elements = sorted(demo_store.catalog.elements)[:40]
    quarters = demo_store.periods_with_data()
    monkeypatch.setattr(ShardReader, "_instance", ShardReader(cache_bytes=10**9))
    full = demo_store.rollup_arrays(regions, elements)
    full_cells = demo_store.rollup_cells(regions, elements, quarters)
    assert np.isfinite(full_cells[0]).sum() > 0
    small = ShardReader(cache_bytes=cache_bytes)
    monkeypatch.setattr(ShardReader, "_instance", small)
    for _ in range(2):      # the second time with whatever the first admitted
        for want, got in zip(full_cells, demo_store.rollup_cells(regions, elements, quarters)):
            assert np.array_equal(want, got, equal_nan=True)
        got = demo_store.rollup_arrays(regions, elements)
        assert set(got) == set(full) and len(got["region_code"]) == len(full["region_code"]) > 0
        for col in full:
            assert np.array_equal(np.asarray(got[col]), np.asarray(full[col]), equal_nan=col not in (
                "region_code", "element_code", "period")), col
    cached = len(small._upper)
    shards = len([f for g in demo_store.manifest()["shards"].values() for f in g.values()])
    assert (cached == 0) if cache_bytes == 0 else (0 < cached < shards)


def test_as_of_a_few_publishes_back_rederives_only_the_shards_they_touch(tmp_path, split, monkeypatch):
    """A past state is made from the live shard set (hard links) plus the shards of the snapshots
    whose state differs — not rebuilt from the log — and equals a full rebuild for that state."""
    store = make_store(tmp_path / "s")
    base = [(v, "toilets_built", p, float(i + 1)) for i, v in enumerate(VILLAGES) for p in ("2024Q1", "2024Q2")]
    base += [(v, "road_km_total", "2024Q2", 10.0 + i) for i, v in enumerate(VILLAGES)]
    store.publish(frame(base), user=ANALYST, comment="", source_name="a.csv", source_sha256="0")
    first = store.snapshots()[-1].id
    store.publish(frame([(VILLAGES[0], "toilets_built", "2024Q2", 50.0)]), user=ANALYST, comment="",
                  source_name="b.csv", source_sha256="0")
    store.publish(frame([(VILLAGES[3], "road_km_total", "2024Q2", 99.0)]), user=ANALYST, comment="",
                  source_name="c.csv", source_sha256="0")
    store.retract(first + 1, user=ANALYST)
    live_files = sh.shard_files(store.manifest()["shards"])

    def no_rebuild(*a, **k):
        raise AssertionError("a past state a few publishes back was rebuilt from the whole log")
    monkeypatch.setattr(sh, "rebuild", no_rebuild)
    view = store.at(snapshot=first)
    got = view_rows(view)
    monkeypatch.undo()
    want_dir = tmp_path / "want"
    want = all_rows(want_dir, sh.rebuild(want_dir, store.layout, store.log, view.active, "check"))
    assert_same(got, want)
    assert 50.0 not in got["value_sum"].tolist() and view.active == {first}
    # shards the later snapshots did not touch are the live files themselves (linked, not copied)
    linked = [rel for rel in sh.shard_files(view._shards()) if rel in live_files]
    assert any(rel.startswith("2024Q1/") for rel in linked), view._shards()   # 2024Q1: untouched since
    for rel in linked:
        assert (view._shard_root() / rel).stat().st_ino == (store.shard_dir / rel).stat().st_ino


def test_current_values_by_categorical_or_text_keys_agree(demo_store):
    """The validator looks values up with categorical keys (millions of them): the answer is the
    one text keys get, in the keys' order, with nothing where nothing is published."""
    facts = demo_store.current_facts().sample(400, random_state=7)
    keys = facts[["region_code", "element_code", "period"]].reset_index(drop=True)
    missing = pd.DataFrame([("990000000000", "no_such_element", "2024Q2"), (keys.iat[0, 0], keys.iat[0, 1], "1999Q1")],
                           columns=keys.columns)
    keys = pd.concat([missing.iloc[:1], keys, missing.iloc[1:]], ignore_index=True)
    text = demo_store.current_values(keys)
    cat = demo_store.current_values(keys.astype("category"), unique=True)
    assert text["value"].isna().tolist() == cat["value"].isna().tolist() == [True] + [False] * 400 + [True]
    np.testing.assert_array_equal(text["value"].to_numpy(), cat["value"].to_numpy())
    np.testing.assert_array_equal(cat["value"].to_numpy()[1:-1], facts["value"].to_numpy())
    assert cat["snapshot_id"].tolist()[1:-1] == facts["snapshot_id"].tolist() and cat["snapshot_id"].isna().iloc[0]
    # as the validator makes them: every region and element a category (most unused), a key in
    # the middle with a missing code, the keys in no particular order
    every = {"region_code": list(demo_store.hierarchy.by_code) + ["990000000000"],
             "element_code": list(demo_store.catalog.elements) + ["no_such_element"]}
    shuffled = keys.sample(frac=1.0, random_state=3).reset_index(drop=True)
    wide = pd.DataFrame({c: pd.Categorical(shuffled[c], categories=sorted(set(every.get(c, shuffled[c]))))
                         for c in keys.columns})
    wide.loc[5, "period"] = np.nan
    got = demo_store.current_values(wide, unique=True)
    expected = demo_store.current_values(shuffled)
    expected.loc[5, ["value", "snapshot_id"]] = [np.nan, pd.NA]
    np.testing.assert_array_equal(got["value"].to_numpy(), expected["value"].to_numpy())
    assert got["snapshot_id"].tolist() == expected["snapshot_id"].tolist()
