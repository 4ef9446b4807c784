"""The catalog data files: schema, sources quoted verbatim from the seeds, coverage of the plans."""

import re

import pytest
import yaml

from metrics import paths
from metrics.catalog import load_catalog, validate_entries
from metrics.catalog_schema import SCHEMAS, TARGET_KINDS

CATALOG = load_catalog()


def _entries():
    for kind in SCHEMAS:
        data = yaml.safe_load((paths.CATALOG_DIR / f"{kind}.yaml").read_text(encoding="utf-8"))
        for entry in data:
            yield pytest.param(kind, entry, id=f"{kind}:{entry.get('code') or entry.get('id')}")


@pytest.mark.parametrize("kind, entry", list(_entries()))
def test_every_catalog_entry_matches_its_schema(kind, entry):
    assert validate_entries(kind, [entry]) == []


def test_schema_rejects_a_target_without_its_kind_fields():
    bad = {"id": "x", "plan": "demo-2021-2025", "indicator": "road_good_rate", "kind": "milestones",
           "target_period": "2025Q4", "source": {"document": "000", "clause": "（七）", "quote_zh": "x"}}
    assert any("milestones" in p for p in validate_entries("targets", [bad]))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


SEEDS = {d.id: _squash((paths.SEEDS_DIR / d.file).read_text(encoding="utf-8")) for d in CATALOG.documents.values()}


@pytest.mark.parametrize("target", [t for t in CATALOG.targets if t.source.get("document")], ids=lambda t: t.id)
def test_every_sourced_target_quotes_its_seed_verbatim(target):
    quote = _squash(target.source["quote_zh"])
    assert quote in SEEDS[target.source["document"]]
    assert target.source["clause"]


def test_real_plan_covers_the_seeds():
    real = [t for t in CATALOG.targets if t.plan == "demo-2021-2025"]
    assert len(real) >= 35
    assert {t.source["document"] for t in real} == {"000", "001", "002", "003", "004"}
    assert {t.kind for t in real} == set(TARGET_KINDS)


def test_illustrative_plan_is_marked():
    plan = CATALOG.plans["demo-2026-2030"]
    assert plan.illustrative and plan.start == "2026Q1" and plan.end == "2030Q4"
    for t in CATALOG.targets_of(plan.id):
        assert "示例" in (t.note_zh or "")


def _target(tid):
    return next(t for t in CATALOG.targets if t.id == tid)


def test_first_class_toilets_milestones():
    t = _target("t_toilets_milestones")
    assert t.kind == "milestones" and t.milestones == {2022: 946, 2023: 642, 2024: 642, 2025: 963}
    assert t.source["document"] == "001"
    assert CATALOG.elements[CATALOG.indicators["toilets_built"].formula["element"]].temporal == "flow"


def test_first_class_road_rate_is_a_ratio_of_km():
    ind = CATALOG.indicators["road_good_rate"]
    assert ind.formula == {"type": "ratio", "numerator": "road_km_good", "denominator": "road_km_total", "scale": 100}
    t = _target("t_road_good_rate")
    assert (t.kind, t.target_value, t.target_period, t.source["document"]) == ("threshold", 75, "2025Q4", "000")


def test_first_class_followup_rate():
    ind = CATALOG.indicators["chronic_followup_rate"]
    assert ind.formula["numerator"] == "followups_done" and ind.formula["denominator"] == "followups_due"
    t = _target("t_chronic_followup")
    assert (t.target_value, t.target_period, t.source["document"]) == (95, "2025Q4", "001")


def test_first_class_income_growth():
    assert CATALOG.indicators["income_growth"].formula == {"type": "yoy_growth", "element": "income_pc_ytd"}
    el = CATALOG.elements["income_pc_ytd"]
    assert (el.temporal, el.aggregation, el.weight) == ("ytd", "weighted_mean", "population")
    rel = _target("t_income_growth_relative")
    assert rel.kind == "relative" and CATALOG.elements[rel.benchmark].role == "benchmark"
    assert rel.source["document"] == "002"
    y2021 = _target("t_income_growth_2021")
    assert (y2021.target_value, y2021.comparison, y2021.target_period, y2021.source["document"]) == (8, "gt", "2021Q4", "004")
