"""The demo writes through the same checks an upload would (#7 point 11)."""

import pandas as pd

from metrics import demo


def test_every_published_demo_snapshot_is_valid(demo_store):
    snaps = demo_store.snapshots()
    assert len(snaps) >= 6
    for snap in snaps:                      # the correction and the retracted mistake included
        facts = pd.read_parquet(demo_store.dir / snap.file)
        assert demo.check_facts(facts, demo_store.catalog) == [], snap.source_name


def test_check_facts_names_each_problem(demo_store):
    bad = pd.DataFrame([("990121101201", "toilets_built", "2024Q2", -1.0),
                        ("990121101201", "toilets_built", "2024Q3", float("nan")),
                        ("990121101201", "no_such_element", "2024Q3", 1.0)],
                       columns=["region_code", "element_code", "period", "value"])
    problems = demo.check_facts(bad, demo_store.catalog)
    assert any("no_such_element" in p for p in problems)
    assert any("负值" in p and "2024Q2" in p for p in problems)
    assert any("不是有效数值" in p for p in problems)
