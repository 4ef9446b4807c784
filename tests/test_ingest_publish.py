"""Dry run, publish (all or nothing), locks, preview overlay, retract/restore — on the real store."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from metrics.auth import PermissionDenied, User
from metrics.ingest import dryrun, locks, publish
from metrics.ingest.preview import Overlay
from metrics.store import Store

ANALYST, ADMIN, VIEWER = User("analyst1", "analyst"), User("admin1", "admin"), User("leader", "viewer")
V1, V2 = "990121101201", "990121101202"
HEADER = "region_code,element_code,period,value\n"


@pytest.fixture
def store(demo_dir, tmp_path) -> Store:
    d = tmp_path / "data"
    shutil.copytree(demo_dir, d)
    return Store(d)


def csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def test_a_file_with_any_error_publishes_nothing(store):
    version, n = store.version(), len(store.snapshots())
    report = dryrun.check(store, csv(f"{V1},toilets_built,2026Q3,3", f"{V2},toilets_built,2026Q3,-1"), "x.csv")
    assert not report.ok and report.codes() == ["negative_value"]
    with pytest.raises(publish.PublishRefused) as exc:
        publish.publish(store, report, user=ANALYST, comment="c")
    assert exc.value.key == "has_errors"
    assert store.version() == version and len(store.snapshots()) == n


def test_publish_needs_a_comment_an_acknowledgement_and_a_role(store):
    data = csv(f"{V1},households,2026Q3,5000")           # last quarter ~ hundreds: large_change
    report = dryrun.check(store, data, "x.csv")
    assert report.ok and list(report.warnings["code"]) == ["large_change"]
    for kwargs, key in (({"comment": " "}, "comment_required"), ({"comment": "c"}, "ack_required")):
        with pytest.raises(publish.PublishRefused) as exc:
            publish.publish(store, report, user=ANALYST, **kwargs)
        assert exc.value.key == key
    with pytest.raises(PermissionDenied):
        publish.publish(store, report, user=VIEWER, comment="c", acknowledge_warnings=True)
    snap = publish.publish(store, report, user=ANALYST, comment="核实过", acknowledge_warnings=True)
    assert snap.user == "analyst1" and snap.comment == "核实过" and snap.source_name == "x.csv"
    assert snap.source_sha256 == report.sha256 and snap.rows == 1
    values = store.current_values(pd.DataFrame([(V1, "households", "2026Q3")], columns=report.facts.columns[:3]))
    assert values["value"][0] == 5000
    audit = [json.loads(line) for line in (store.dir / "audit.jsonl").read_text().splitlines()]
    ingest = [a for a in audit if a["action"] == "ingest"][-1]
    assert ingest["user"] == "analyst1" and ingest["changed"] == 1 and ingest["file"] == "x.csv"


def test_file_names_never_become_paths(store):
    report = dryrun.check(store, csv(f"{V1},toilets_built,2026Q3,301"), "../../etc/evil.csv")
    snap = publish.publish(store, report, user=ANALYST, comment="c", acknowledge_warnings=True)
    assert snap.source_name == "evil.csv"
    assert not (store.dir.parent.parent / "etc").exists()


def test_summary_counts_new_changed_unchanged_ignored(store):
    key = pd.DataFrame([(V1, "toilets_built", "2026Q3")], columns=["region_code", "element_code", "period"])
    current = store.current_values(key)["value"][0]
    data = csv(f"{V1},toilets_built,2026Q3,{current}", f"{V2},toilets_built,2026Q3,{current + 1}",
               f"{V1},toilets_built,2019Q1,5", f"{V2},households,2026Q3,")
    report = dryrun.check(store, data, "x.csv")
    summary = dryrun.summarize(store, report)
    assert summary.counts() == {"new": 1, "changed": 1, "unchanged": 1, "ignored": 1}
    assert list(summary.changes["new"]) == [current + 1]


def test_nothing_new_is_refused(store):
    current = store.current_values(pd.DataFrame([(V1, "households", "2026Q3")],
                                                columns=["region_code", "element_code", "period"]))["value"][0]
    report = dryrun.check(store, csv(f"{V1},households,2026Q3,{current}"), "x.csv")
    with pytest.raises(publish.PublishRefused) as exc:
        publish.publish(store, report, user=ANALYST, comment="c")
    assert exc.value.key == "nothing_new"


def test_period_lock_admin_only_audited_and_enforced(store):
    with pytest.raises(PermissionDenied):
        locks.lock(store.dir, "2026Q2", ANALYST)
    locks.lock(store.dir, "2026Q2", ADMIN)
    report = dryrun.check(store, csv(f"{V1},toilets_built,2026Q2,3", f"{V1},toilets_built,2026Q3,3"), "x.csv")
    assert report.codes() == ["period_locked"] and list(report.errors["row"]) == [2]
    locks.unlock(store.dir, "2026Q2", ADMIN)
    assert dryrun.check(store, csv(f"{V1},toilets_built,2026Q2,3"), "x.csv").ok
    actions = [json.loads(line)["action"] for line in (store.dir / "audit.jsonl").read_text().splitlines()]
    assert actions[-2:] == ["lock_period", "unlock_period"]


def test_stored_denominator_bounds_an_uploaded_numerator(store):
    report = dryrun.check(store, csv(f"{V1},road_km_good,2026Q3,9999"), "x.csv")
    assert report.codes() == ["numerator_exceeds_denominator"] and "已发布" in report.errors["message"][0]


def test_preview_overlay_matches_the_published_state(store):
    """The dry run's preview adds exactly what publishing adds: sums, weighted means, coverage."""
    h = store.hierarchy
    root, town = h.root.code, h.children(h.root.code)[0].code
    data = csv(f"{V1},road_km_good,2026Q3,25", f"{V2},income_pc_ytd,2026Q3,30000", f"{V1},sewage_treated_villages,2026Q3,0",
               f"{V2},sewage_treated_villages,2026Q3,1", f"{V1},toilets_built,2026Q3,77")
    report = dryrun.check(store, data, "x.csv")
    assert report.ok, report.errors
    merged = dryrun.compare(store, report)
    overlay = Overlay(store, merged)
    elements = ["road_km_good", "income_pc_ytd", "sewage_treated_villages@village", "toilets_built"]
    preview = overlay.rollup_rows([root, town, V1], elements, "2026Q3", "2026Q3")
    publish.publish(store, report, user=ANALYST, comment="c", acknowledge_warnings=True)
    actual = store.rollup_rows([root, town, V1], elements, "2026Q3", "2026Q3")
    cols = ["region_code", "element_code", "period"]
    both = preview.merge(actual, on=cols, suffixes=("_p", "_a"))
    assert len(both) == len(actual) == len(preview)
    assert np.allclose(both["value_sum_p"], both["value_sum_a"])
    assert np.allclose(both["weight_sum_p"].fillna(-1), both["weight_sum_a"].fillna(-1))


def test_retract_then_restore_brings_values_back_and_forth(store):
    key = pd.DataFrame([(V1, "households", "2026Q3")], columns=["region_code", "element_code", "period"])
    before = store.current_values(key)["value"][0]
    report = dryrun.check(store, csv(f"{V1},households,2026Q3,{before + 7}"), "x.csv")
    snap = publish.publish(store, report, user=ANALYST, comment="c", acknowledge_warnings=True)
    assert store.current_values(key)["value"][0] == before + 7
    publish.retract(store, snap.id, user=ANALYST, comment="传错了")
    assert store.current_values(key)["value"][0] == before
    publish.restore(store, snap.id, user=ANALYST)
    assert store.current_values(key)["value"][0] == before + 7
    assert any(s.id == snap.id for s in store.snapshots())          # nothing is ever deleted
    earlier = store.at(snapshot=snap.id - 1)
    assert earlier.current_values(key)["value"][0] == before


def test_ingest_bench_runs_small():
    """The bench's own path (make data, validate, publish in a child) on a small file."""
    from metrics.ingest import bench
    result = bench.run(rows=5_000)
    assert result["rows"] == result["rows_valid"] == 5_000 and result["errors"] == 0
    assert result["total_s"] > 0 and result["peak_rss_mb"] > 0 and "met" in result
