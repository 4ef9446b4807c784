"""``python -m metrics`` ingest commands through the real entry point: template, ingest, targets,
regions, lock — and templates that read back through the same reader."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from metrics.catalog import default_catalog
from metrics.ingest import templates
from metrics.ingest.read import read_sheets, to_long
from metrics.regions import load_hierarchy
from metrics.store import Store
from tests.conftest import run_cli

DATA = Path(__file__).resolve().parent / "data" / "ingest"


@pytest.fixture
def data_dir(demo_dir, tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(demo_dir, d)
    return d


def test_ingest_json_shape_and_exit_codes(data_dir):
    n = len(Store(data_dir).snapshots())
    bad = run_cli("ingest", str(DATA / "bad_period.csv"), "--dry-run", "--json", data_dir=data_dir)
    assert bad.returncode == 1, bad.stderr
    out = json.loads(bad.stdout)
    assert {"ok", "rows_read", "rows_valid", "errors", "warnings", "new", "changed", "unchanged", "ignored"} <= set(out)
    assert out["ok"] is False and out["rows_valid"] == 0
    assert [(e["row"], e["code"]) for e in out["errors"]] == [(3, "bad_period"), (4, "bad_period")]
    assert {"row", "column", "code", "message"} <= set(out["errors"][0])
    good = run_cli("ingest", str(DATA / "bom_long.csv"), "--dry-run", "--json", data_dir=data_dir)
    assert good.returncode == 0 and json.loads(good.stdout)["rows_valid"] == 2
    assert isinstance(json.loads(good.stdout)["status_moves"], list)
    assert len(Store(data_dir).snapshots()) == n                     # dry run published nothing


def test_ingest_publishes_with_comment_and_refuses_without(data_dir):
    n = len(Store(data_dir).snapshots())
    refused = run_cli("ingest", str(DATA / "bom_long.csv"), data_dir=data_dir)
    assert refused.returncode == 1 and "发布说明" in refused.stderr
    done = run_cli("ingest", str(DATA / "bom_long.csv"), "--comment", "二季度补报", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    snaps = Store(data_dir).snapshots()
    assert len(snaps) == n + 1 and snaps[-1].comment == "二季度补报" and json.loads(done.stdout)["snapshot"] == snaps[-1].id


def test_unreadable_file_one_message_no_traceback(data_dir):
    out = run_cli("ingest", str(DATA / "unparseable.xlsx"), "--dry-run", data_dir=data_dir)
    assert out.returncode == 1 and "unparseable.xlsx" in out.stderr and "Traceback" not in out.stderr + out.stdout
    missing = run_cli("ingest", str(DATA / "no_such_file.csv"), data_dir=data_dir)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_template_commands_write_files_that_read_back(data_dir, tmp_path):
    wide, long = tmp_path / "w.xlsx", tmp_path / "l.csv"
    assert run_cli("template", "--level", "village", "-o", str(wide), data_dir=data_dir).returncode == 0
    assert run_cli("template", "--layout", "long", "--format", "csv", "--level", "township", "-o", str(long),
                   data_dir=data_dir).returncode == 0
    book = pd.read_excel(wide, sheet_name=None, header=None, engine="calamine")
    assert list(book)[0] == "填表说明" and "生态宜居" in book
    eco = book["生态宜居"]
    assert "新建卫生厕所（座）" in eco.iloc[0].tolist() and "toilets_built" in eco.iloc[1].tolist()
    assert len(eco) - 2 == sum(1 for r in Store(data_dir).hierarchy.in_order() if r.level == "village")
    frame = pd.read_csv(long, dtype=str, encoding="utf-8-sig")
    assert list(frame.columns) == ["region_code", "element_code", "period", "value"]
    assert frame["region_code"].str.endswith("000").all()          # township codes


def test_filled_wide_template_validates():
    cat, h = default_catalog(), load_hierarchy(DATA / "no-such-dir")
    data = templates.wide_xlsx(cat, h, level="village", period="2024Q2")
    raw = to_long(read_sheets(data), cat)
    assert raw.layout == "wide" and raw.values.empty and not raw.unknown_headers and not raw.missing
    book = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, engine="calamine", dtype=str)
    eco = book["生态宜居"].fillna("")
    col = eco.iloc[1].tolist().index("toilets_built")
    eco.iloc[2, col] = "12"
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        eco.to_excel(xw, sheet_name="生态宜居", header=False, index=False)
    from metrics.ingest.validate import Rules, validate_bytes
    report = validate_bytes(buf.getvalue(), "filled.xlsx", Rules(catalog=cat, hierarchy=h, last_period="2026Q3"))
    assert report.ok and list(report.facts["row"]) == [3] and report.facts["value"][0] == 12


def test_regions_import_validates_with_line_numbers(data_dir):
    out = run_cli("regions", "import", str(DATA / "regions_errors.csv"), "--dry-run", "--json", data_dir=data_dir)
    assert out.returncode == 1
    found = sorted((e["code"], e["row"]) for e in json.loads(out.stdout)["errors"])
    assert ("duplicate_code", 4) in found and ("unknown_parent", 5) in found
    assert ("cycle", 6) in found and ("cycle", 7) in found
    assert ("code_not_under_parent", 8) in found and ("bad_level", 9) in found


def test_regions_import_real_shapes_and_history_kept(data_dir):
    before = Store(data_dir).current_facts()
    out = run_cli("regions", "import", str(DATA / "regions_real_shape.csv"), "--json", data_dir=data_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["roots"] == 2
    store = Store(data_dir)
    h = store.hierarchy
    assert h.root.code == "000000000000" and {r.code for r in h.children(h.root.code)} == {"110000000000", "130000000000"}
    assert h["110101000000"].parent == "110000000000"                              # a skipped level
    assert len(h.by_name("新华区")) == 2 and len(h.by_name("城关镇")) == 2           # repeated names
    after = store.current_facts()
    assert len(after) == len(before)                       # the demo regions' facts are all still there
    assert (Path(data_dir) / "regions_history").is_dir()


def test_targets_import_dry_run_and_publish(data_dir, tmp_path):
    f = tmp_path / "targets.csv"
    f.write_text("region,indicator,kind,target_period,target_value,source_document,source_clause,source_quote\n"
                 "990121101000,road_good_rate,threshold,2025,70,000,（七）,示例\n"
                 "990121102000,无此指标,threshold,2025,70,000,（七）,示例\n", encoding="utf-8")
    out = run_cli("targets", "import", str(f), "--dry-run", "--json", data_dir=data_dir)
    assert out.returncode == 1
    assert [(e["code"], e["row"]) for e in json.loads(out.stdout)["errors"]] == [("unknown_indicator", 3)]
    f.write_text(f.read_text(encoding="utf-8").splitlines()[0] + "\n"
                 "990121103000,road_good_rate,threshold,2025,60,000,（七）,示例\n", encoding="utf-8")
    ok = run_cli("targets", "import", str(f), "--comment", "分解", "--json", data_dir=data_dir)
    assert ok.returncode == 0, ok.stdout
    result = json.loads(ok.stdout)
    assert result["version"] == 1
    assert [w["code"] for w in result["warnings"]] == ["breakdown_shortfall"]     # 60 < 75 on one township
    assert "示范旗" in result["warnings"][0]["message"] and "农村公路优良中等路率" in result["warnings"][0]["message"]
    assert [(m["region_code"], m["indicator_code"], m["before"], m["after"]) for m in result["status_moves"]] == [
        ("990121103000", "road_good_rate", "not_met", "met")]
    targets = Store(data_dir).catalog.targets
    assert any(t.region == "990121103000" and t.target_value == 60 for t in targets)


def test_lock_and_unlock_from_the_command_line(data_dir):
    assert run_cli("lock", "2024Q2", data_dir=data_dir).returncode == 0
    out = run_cli("ingest", str(DATA / "bom_long.csv"), "--dry-run", "--json", data_dir=data_dir)
    assert {e["code"] for e in json.loads(out.stdout)["errors"]} == {"period_locked"}
    assert run_cli("unlock", "2024Q2", data_dir=data_dir).returncode == 0
    assert run_cli("lock", "2024Q9", data_dir=data_dir).returncode == 2
