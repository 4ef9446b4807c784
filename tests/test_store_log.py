"""The Delta logs: another engine reads them as they are; an old data directory upgrades with every
value and the whole snapshot history; the CLI's restore / diff / --as-of / store commands."""

import datetime as dt
import json

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from metrics.auth import SYSTEM, User
from metrics.regions import parse_regions_csv
from metrics.store import Store, upgrade
from tests import legacy_store_v1
from tests.conftest import run_cli

ANALYST = User("分析员", "analyst")
REGIONS = """code,name,level,parent
990000000000,测试县,county,
990000100000,甲镇,township,990000000000
990000100201,甲一村,village,990000100000
990000100202,甲二村,village,990000100000
990000200000,乙镇,township,990000000000
990000200201,乙一村,village,990000200000
"""
VILLAGES = ["990000100201", "990000100202", "990000200201"]
ELEMENTS = ["toilets_built", "population", "income_pc_ytd", "road_km_total", "road_km_good", "village_clinics"]


def facts(scale: float, periods=("2024Q1", "2024Q2"), villages=VILLAGES) -> pd.DataFrame:
    rows = [(v, e, p, float(10 * i + j + scale)) for i, v in enumerate(villages) for j, e in enumerate(ELEMENTS)
            for p in periods]
    return pd.DataFrame(rows, columns=["region_code", "element_code", "period", "value"])


def history(store):
    """Three uploads, one correction of part of them, one retraction."""
    store.publish(facts(1), user=ANALYST, comment="一", source_name="a.csv", source_sha256="a")
    store.publish(facts(2, ("2024Q2",), VILLAGES[:1]), user=ANALYST, comment="二", source_name="b.csv",
                  source_sha256="b")
    third = store.publish(facts(3, ("2024Q3",)), user=ANALYST, comment="三", source_name="c.csv", source_sha256="c")
    store.retract(2, user=ANALYST)
    return third


def test_duckdb_over_the_delta_tables_gets_the_core_current_values(tmp_path):
    store = Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))
    history(store)
    store.restore(2, user=ANALYST)
    store.retract(3, user=ANALYST)
    con = duckdb.connect()
    con.register("facts", DeltaTable(str(tmp_path / "log" / "facts")).to_pyarrow_dataset())
    con.register("events", DeltaTable(str(tmp_path / "log" / "events")).to_pyarrow_dataset())
    # the same SQL a Spark or Trino user would write: the last event per snapshot decides
    other = con.execute("""
        WITH last AS (SELECT snapshot_id, arg_max(action, seq) AS action FROM events GROUP BY snapshot_id),
             active AS (SELECT snapshot_id FROM last WHERE action IN ('publish', 'restore'))
        SELECT region_code, element_code, period, arg_max(value, snapshot_id) AS value,
               max(snapshot_id) AS snapshot_id
        FROM facts WHERE snapshot_id IN (SELECT snapshot_id FROM active)
        GROUP BY ALL ORDER BY ALL""").df()
    assert len(other) == len(VILLAGES) * len(ELEMENTS) * 2 and set(other["snapshot_id"]) == {1, 2}
    core = store.current_values(other[["region_code", "element_code", "period"]])
    merged = other.merge(core, on=["region_code", "element_code", "period"], suffixes=("", "_core"))
    assert len(merged) == len(other)
    assert (merged["value"] == merged["value_core"]).all()
    assert (merged["snapshot_id"] == merged["snapshot_id_core"].astype(int)).all()
    # keys with nothing published come back empty
    none = store.current_values(pd.DataFrame([("990000200201", "toilets_built", "2019Q1")],
                                             columns=["region_code", "element_code", "period"]))
    assert none["value"].isna().all() and none["snapshot_id"].isna().all()


def test_quarters_of_one_active_snapshot_are_known_from_file_statistics_and_rebuild_right(tmp_path):
    """A rebuild reads a quarter's log rows as they are where one active snapshot holds it, and
    picks the newest per key elsewhere: both give the values the incremental path gave."""
    store = Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))

    def single(active):
        return {q.period for q in store.log.quarters(active) if q.single}

    history(store)                                   # active {1, 3}: 2 (a 2024Q2 correction) retracted
    assert single({1, 3}) == {"2024Q1", "2024Q2", "2024Q3"}
    store.restore(2, user=ANALYST)
    assert single({1, 2, 3}) == {"2024Q1", "2024Q3"}
    before = store.current_values(facts(0, ("2024Q1", "2024Q2", "2024Q3"))).sort_values(["region_code", "period"])
    assert (before.query("region_code == @VILLAGES[0] and period == '2024Q2'")["snapshot_id"] == 2).all()
    store.rebuild(ANALYST)
    after = store.current_values(facts(0, ("2024Q1", "2024Q2", "2024Q3"))).sort_values(["region_code", "period"])
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))
    # a file written by another engine spanning two snapshots: its statistics cannot tell, so the
    # quarter is never taken as one snapshot's while either is active
    two = facts(9, ("2024Q4",)).assign(snapshot_id=[4, 5] * (len(VILLAGES) * len(ELEMENTS) // 2))
    store.log.append_facts(pa.Table.from_pandas(two, preserve_index=False))
    for active in ({1, 2, 3, 4, 5}, {1, 2, 3, 5}, {1, 2, 3}):
        assert single(active) == {"2024Q1", "2024Q3"}
    assert "2024Q4" not in {q.period for q in store.log.quarters({1, 2, 3})}
    # every quarter's files are the Delta table's own files for it, for DuckDB's Parquet reader
    for q in store.log.quarters({1, 2, 3, 4, 5}):
        assert sorted(q.files) == sorted(f for f in DeltaTable(str(tmp_path / "log" / "facts")).file_uris()
                                         if f"period={q.period}/" in f)


def test_history_is_kept_for_a_century(tmp_path):
    store = Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))
    store.publish(facts(1), user=ANALYST, comment="", source_name="a.csv", source_sha256="a")
    for table in ("facts", "events"):
        config = DeltaTable(str(tmp_path / "log" / table)).metadata().configuration
        assert config["delta.logRetentionDuration"] == "interval 36500 days"
        assert config["delta.deletedFileRetentionDuration"] == "interval 36500 days"


def test_upgrade_of_an_old_data_directory_keeps_values_and_history(tmp_path):
    old = legacy_store_v1.Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))
    t = dt.datetime(2024, 3, 1, 9, 0)
    old.publish(facts(1), user="甲", comment="一", source_name="a.csv", source_sha256="a", now=t)
    old.publish(facts(2, ("2024Q2",), VILLAGES[:1]), user="乙", comment="二", source_name="b.csv",
                source_sha256="b", now=t + dt.timedelta(days=1), demo=True)
    old.publish(facts(3, ("2024Q3",)), user="丙", comment="三", source_name="c.csv", source_sha256="c",
                now=t + dt.timedelta(days=2))
    old.retract(2, user="丁", now=t + dt.timedelta(days=3))
    regions = list(parse_regions_csv(REGIONS).by_code)
    elements = ELEMENTS + ["village_clinics@village"]
    before_rows = old.rollup_rows(regions, elements)
    before_facts = old.current_facts()
    before_snaps = old.snapshots()
    legacy_store_v1.Store._connections.clear()

    new = Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))      # first start upgrades
    assert not (tmp_path / "manifest.json").exists() and not (tmp_path / "rollups").exists()
    assert (tmp_path / "legacy" / "manifest.json").exists() and (tmp_path / "legacy" / "snapshots").is_dir()
    snaps = new.snapshots()
    assert [(s.id, s.created_at, s.user, s.comment, s.source_name, s.source_sha256, s.rows, s.retracted,
             s.retracted_at, s.retracted_by, s.demo) for s in snaps] == \
           [(s.id, s.created_at, s.user, s.comment, s.source_name, s.source_sha256, s.rows, s.retracted,
             s.retracted_at, s.retracted_by, s.demo) for s in before_snaps]
    after_rows = new.rollup_rows(regions, elements)
    cols = ["region_code", "element_code", "period"]
    pd.testing.assert_frame_equal(after_rows.sort_values(cols).reset_index(drop=True)[before_rows.columns],
                                  before_rows.sort_values(cols).reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(new.current_facts().reset_index(drop=True), before_facts.reset_index(drop=True),
                                  check_dtype=False)
    # history survives too: as of the second snapshot, the retracted upload was in force
    assert new.at(snapshot=2).current_values(facts(0, ("2024Q2",), VILLAGES[:1]))["snapshot_id"].tolist() == \
        [2] * len(ELEMENTS)
    assert upgrade.debris(new) == []
    assert Store(tmp_path, hierarchy=parse_regions_csv(REGIONS)).snapshots() == snaps   # idempotent


def test_cli_restore_diff_as_of_and_store_commands(tmp_path):
    (tmp_path / "regions.csv").write_text(REGIONS, encoding="utf-8")
    store = Store(tmp_path)
    history(store)
    out = run_cli("restore", "2", "--comment", "误撤回", data_dir=tmp_path)
    assert out.returncode == 0 and "已恢复" in out.stdout
    assert run_cli("restore", "2", data_dir=tmp_path).returncode == 1          # not retracted now
    snaps = json.loads(run_cli("snapshots", "--json", data_dir=tmp_path).stdout)
    assert [s["retracted"] for s in snaps] == [False, False, False] and snaps[1]["restored_by"].startswith("cli:")
    past = json.loads(run_cli("snapshots", "--json", "--as-of", "2", data_dir=tmp_path).stdout)
    assert [s["id"] for s in past] == [1, 2]
    early = json.loads(run_cli("snapshots", "--json", "--as-of", "2000-01-01", data_dir=tmp_path).stdout)
    assert early == []
    bad = run_cli("snapshots", "--as-of", "昨天", data_dir=tmp_path)
    assert bad.returncode == 2 and "无法识别的时间" in bad.stderr and "Traceback" not in bad.stderr
    diff = json.loads(run_cli("diff", "1", "2", "--json", data_dir=tmp_path).stdout)
    assert {(d["region_code"], d["element_code"], d["old"], d["new"]) for d in diff} == \
        {(VILLAGES[0], e, 1.0 + j, 2.0 + j) for j, e in enumerate(ELEMENTS)}
    status_now = json.loads(run_cli("status", "--json", "--period", "2024Q2", data_dir=tmp_path).stdout)
    status_then = json.loads(run_cli("status", "--json", "--period", "2024Q2", "--as-of", "1",
                                     data_dir=tmp_path).stdout)
    assert status_now["snapshot_version"] != status_then["snapshot_version"]
    assert status_now["indicators"] != status_then["indicators"]
    rebuilt = run_cli("store", "rebuild", data_dir=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(run_cli("status", "--json", "--period", "2024Q2", data_dir=tmp_path).stdout)["indicators"] \
        == status_now["indicators"]
    assert "无需升级" in run_cli("store", "upgrade", data_dir=tmp_path).stdout


def test_system_user_and_viewer_refused_by_cli_free_core(tmp_path):
    store = Store(tmp_path, hierarchy=parse_regions_csv(REGIONS))
    snap = store.publish(facts(1), user=SYSTEM, comment="", source_name="a.csv", source_sha256="a")
    assert snap.user == "system"
    with pytest.raises(PermissionError):
        store.restore(snap.id, user=User("看客", "viewer"))
