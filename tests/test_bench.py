"""The benchmark at county scale (a smoke test, no timing assertions): it builds the synthetic
store, times every page against the naive way, publishes in a separate process and serves."""

import io
import json

import pandas as pd

from metrics import bench


def test_bench_county_scale(tmp_path, monkeypatch):
    monkeypatch.setenv("RRTT_BENCH_CACHE", str(tmp_path))
    result = bench.run(scale="county", repeats=2)
    json.dumps(result)  # JSON-able, as `python -m metrics bench --json` needs

    assert set(result) >= {"scale", "facts", "pages", "publish", "serve"}
    assert result["scale"] == "county"
    levels = result["hierarchy"]["levels"]
    assert levels["county"] == 1 and 100 <= levels["village"] <= 250
    # villages × data elements × 20 quarters, plus the benchmark series at the top
    data_elements = sum(e.role == "data" for e in bench.default_catalog().elements.values())
    assert result["facts"] >= levels["village"] * data_elements * 20
    pages = {name.split("/")[0] for name in result["pages"]}
    assert pages == {"overview", "indicator", "comparison", "report data"}
    for entry in result["pages"].values():
        assert set(entry) == {"median_ms", "p95_ms", "naive_median_ms", "speedup"}
        assert 0 < entry["median_ms"] <= entry["p95_ms"]
        assert entry["naive_median_ms"] > 0 and entry["speedup"] > 0
    pub = result["publish"]
    assert pub["rows"] > 0 and pub["seconds"] > 0 and pub["peak_rss_mib"] > 0
    assert result["serve"]["sessions"] == 5 and result["serve"]["rss_mib"] > 0 and not result["serve"]["errors"]

    # the naive way is a second implementation: its rollup rows are the store's, row for row
    from metrics.bench.data import prepare
    from metrics.bench.naive import NaiveStore
    from metrics.query import rollup_code
    from metrics.store import Store
    data_dir, hierarchy, _ = prepare("county", bench.default_catalog())
    store = Store(data_dir, hierarchy=hierarchy)
    naive = NaiveStore(store.log.facts_dataset(), store.catalog, hierarchy, store)
    root = hierarchy.root.code
    regions = [root] + [c.code for c in hierarchy.children(root)] + [hierarchy.leaves()[0].code]
    codes = sorted({c for i in store.catalog.indicators.values() for c in rollup_code(i)})
    ours, theirs = store.rollup_rows(regions, codes), naive.rollup_rows(regions, codes)
    key = ["region_code", "element_code", "period"]
    assert len(ours) > 1000
    pd.testing.assert_frame_equal(ours.sort_values(key).reset_index(drop=True),
                                  theirs.sort_values(key).reset_index(drop=True), check_dtype=False)
    # read chunk by chunk (a quarter of one child's code range at a time) it adds up the same;
    # cut to the latest quarter (the nation top's lower bound) it is the store's rows of that quarter
    naive = NaiveStore(store.log.facts_dataset(), store.catalog, hierarchy, store, chunked=True)
    pd.testing.assert_frame_equal(ours.sort_values(key).reset_index(drop=True),
                                  naive.rollup_rows(regions, codes).sort_values(key).reset_index(drop=True),
                                  check_dtype=False)
    assert len(naive.bounds) == len(hierarchy.children(root)) > 1
    # a child's rows need only the chunk of its code range: the others are not read
    child = hierarchy.children(root)[1].code
    reads = []
    real = naive.dataset.to_table
    naive.dataset = type("Counted", (), {"to_table": lambda self, **kw: reads.append(1) or real(**kw)})()
    one = naive.rollup_rows([child], codes)
    assert len(reads) == len(store.periods_with_data())
    pd.testing.assert_frame_equal(ours[ours["region_code"] == child].sort_values(key).reset_index(drop=True),
                                  one.sort_values(key).reset_index(drop=True), check_dtype=False)
    naive.dataset = store.log.facts_dataset()
    latest = store.periods_with_data()[-1]
    bound = NaiveStore(store.log.facts_dataset(), store.catalog, hierarchy, store, last_quarters=1, chunked=True)
    cut = bound.rollup_rows(regions, codes)
    assert set(cut["period"]) == {latest}
    pd.testing.assert_frame_equal(ours[ours["period"] == latest].sort_values(key).reset_index(drop=True),
                                  cut.sort_values(key).reset_index(drop=True), check_dtype=False)

    # the cache is reused and the measured publish was undone (retracted) afterwards
    again = bench.run(scale="county", repeats=1, naive=False)
    assert again["data"]["cached"] and again["facts"] == result["facts"]

    out = io.StringIO()
    bench.print_report(result, file=out)
    assert "overview/top" in out.getvalue() and "FAILED" not in out.getvalue()
    assert result["failures"] == [] and again["failures"] == []

    # a step that fails late keeps what was measured before it and says what it left behind
    def no_retract(self, *a, **k):
        raise MemoryError("out of memory (simulated)")
    monkeypatch.setattr(Store, "retract", no_retract)
    failed = bench.run(scale="county", repeats=1, naive=False)
    assert failed["pages"] and failed["publish"]["rows"] > 0 and failed["serve"]["sessions"] == 5
    (f,) = failed["failures"]
    snap = failed["publish"]["snapshot_id"]
    assert f["step"] == "retract" and "MemoryError" in f["error"] and f"retract {snap}" in f["left_behind"]
    out = io.StringIO()
    bench.print_report(failed, file=out)
    assert "FAILED retract" in out.getvalue()


def test_synthetic_codes_do_not_collide_with_demo():
    h = bench.make_hierarchy("county")
    assert all(len(code) == 12 and code.startswith("98") for code in h.by_code)
    assert h.root.level == "county" and all(r.level == "village" for r in h.leaves())
    nation = bench.SCALES["nation"]
    assert nation["top"] == "nation" and [lvl for lvl, *_ in nation["fanout"]] == \
        ["province", "city", "county", "township", "village"]


def test_browser_pages_are_judged_against_the_bare_page_at_their_kind_of_url():
    from metrics import bench_browser
    got = bench_browser.judge({"bare": [0.80, 0.84, 0.90], "bare_deep": [0.92, 0.90, 0.95],
                               "overview": [1.00, 1.05, 0.98], "indicator": [1.20, 1.16, 1.18]})
    # the indicator page (a deep link) against the bare page at /indicator: 1.18 / 0.92
    assert got["indicator"]["against"] == "bare_deep" and got["indicator"]["ratio"] == 1.28
    assert got["indicator"]["ok"] and got["indicator"]["ratio_to_root"] == 1.40
    assert got["overview"]["ratio"] == 1.19 and got["overview"]["ratio_to_root"] == 1.19
    assert not bench_browser.judge({"bare": [1.0], "bare_deep": [1.0], "overview": [1.31],
                                    "indicator": [1.0]})["overview"]["ok"]


def test_synthetic_facts_come_in_the_logs_order_with_every_value_once():
    import numpy as np
    import pyarrow.compute as pc

    from metrics.catalog import default_catalog
    cat = default_catalog()
    h = bench.make_hierarchy("county")
    qs = ["2025Q1", "2025Q2", "2025Q3"]
    t = bench.make_facts(cat, h, qs)
    order = pc.sort_indices(t, [("period", "ascending"), ("region_code", "ascending")]).to_numpy()
    assert (order == np.arange(t.num_rows)).all()          # (period, region) order: no sort needed
    villages, data = len(h.leaves()), sum(e.role == "data" for e in cat.elements.values())
    bench_elements = sum(e.role == "benchmark" for e in cat.elements.values())
    assert t.num_rows == len(qs) * (villages * data + bench_elements)
    keys = t.select(["region_code", "element_code", "period"]).to_pandas()
    assert not keys.duplicated().any()
    top = t.filter(pc.equal(t["region_code"], h.root.code))
    assert top.num_rows == len(qs) * bench_elements and set(top["element_code"].to_pylist()) == \
        {c for c, e in cat.elements.items() if e.role == "benchmark"}


def test_bench_command_prints_what_it_measured_and_fails_when_a_step_failed(monkeypatch, capsys):
    import argparse

    from metrics.store import cli
    measured = {"scale": "county", "pages": {}, "failures": [{"step": "serve", "error": "OSError: x"}]}
    monkeypatch.setattr(bench, "run", lambda **kw: measured)
    args = argparse.Namespace(scale="county", repeats=1, browser=False, ingest=False, json=True)
    assert cli.cmd_bench(args) == 1
    assert json.loads(capsys.readouterr().out)["failures"][0]["step"] == "serve"
    measured["failures"] = []
    assert cli.cmd_bench(args) == 0
