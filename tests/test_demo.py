"""The demo writes through the same checks an upload would (#7 point 11)."""

import pandas as pd
import pyarrow.dataset as ds

from metrics import demo


def test_every_published_demo_snapshot_is_valid(demo_store):
    snaps = demo_store.snapshots()
    assert len(snaps) >= 6
    log = demo_store.log.facts_dataset()    # the Delta fact log, every snapshot's rows
    for snap in snaps:                      # the correction and the retracted mistake included
        facts = log.to_table(filter=ds.field("snapshot_id") == snap.id).to_pandas()
        assert len(facts) == snap.rows
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


def test_demo_refuses_what_the_upload_validator_refuses(tmp_path, monkeypatch):
    """#7 point 11: the demo goes through the upload's validator, so an upload's error code stops it."""
    import pytest

    from metrics.store import Store
    real = demo.build_demo_facts

    def with_unknown_region(catalog, hierarchy):
        facts = real(catalog, hierarchy)
        facts.loc[facts.index[0], "region_code"] = "999999999999"
        return facts

    monkeypatch.setattr(demo, "build_demo_facts", with_unknown_region)
    store = Store(tmp_path)
    with pytest.raises(ValueError, match="unknown_region"):
        demo.write_demo(store)
    assert store.snapshots() == []
