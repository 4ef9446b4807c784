"""The basis an indicator is shown in, as the catalog declares it (#7 point 3)."""

import shutil
from pathlib import Path

import pytest
import yaml

from metrics.catalog import CatalogError, load_catalog

CATALOG = Path(__file__).resolve().parent.parent / "data" / "catalog"


def _catalog_with(tmp_path, edit):
    for f in CATALOG.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    entries = yaml.safe_load((tmp_path / "indicators.yaml").read_text(encoding="utf-8"))
    edit(next(e for e in entries if e["code"] == "toilets_built"))
    (tmp_path / "indicators.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_milestones_indicator_defaults_to_cumulative(tmp_path):
    folder = _catalog_with(tmp_path, lambda e: e.pop("basis"))
    assert load_catalog(folder).indicators["toilets_built"].basis == "cumulative"


def test_milestones_indicator_refuses_another_basis(tmp_path):
    folder = _catalog_with(tmp_path, lambda e: e.update(basis="flow"))
    with pytest.raises(CatalogError, match="basis: cumulative"):
        load_catalog(folder)


def test_coverage_defaults_to_the_level_above_its_units(tmp_path):
    def edit(e):
        e.update(formula={"type": "coverage", "element": "village_clinics", "level": "township"})
        e.pop("basis")
    folder = _catalog_with(tmp_path, edit)
    (folder / "targets.yaml").write_text(yaml.safe_dump(
        [t for t in yaml.safe_load((folder / "targets.yaml").read_text(encoding="utf-8"))
         if t["indicator"] != "toilets_built"], allow_unicode=True), encoding="utf-8")
    assert load_catalog(folder).indicators["toilets_built"].min_level == "county"


def test_every_shipped_indicator_declares_a_known_basis_and_level():
    cat = load_catalog(CATALOG)
    assert {i.basis for i in cat.indicators.values()} <= {"stock", "cumulative", "flow", "ytd"}
    for ind in cat.indicators.values():
        if ind.kind == "coverage":
            assert ind.min_level != ind.formula["level"], ind.code   # a share of one unit is 0 or 100
