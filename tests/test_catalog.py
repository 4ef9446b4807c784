"""The catalog data files: schema, sources quoted verbatim from the seeds, coverage of the plans."""

import functools
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


# ---- Round 2 (issue #7): every quantitative target of the seeds, consistent and demo-ready ----

MARK = "# ---- Round 2 (issue #7)"
PLAN = "demo-2021-2025"


@functools.cache
def _raw(kind: str) -> list[dict]:
    return yaml.safe_load((paths.CATALOG_DIR / f"{kind}.yaml").read_text(encoding="utf-8"))


def _new_codes(kind: str, key: str) -> list[str]:
    """Codes of the entries appended below the round-2 marker of a catalog file."""
    text = (paths.CATALOG_DIR / f"{kind}.yaml").read_text(encoding="utf-8")
    assert MARK in text, f"{kind}.yaml has no round-2 marker"
    below = text.split(MARK, 1)[1].split("\n", 1)[1]
    return [e[key] for e in yaml.safe_load(below) or []]


NEW_INDICATORS = _new_codes("indicators", "code")
NEW_TARGETS = _new_codes("targets", "id")


def _coverage_table(title: str) -> dict[str, int]:
    """``| key ... | n |`` rows of the first table after the heading line ``title`` in COVERAGE.md."""
    lines = (paths.CATALOG_DIR / "COVERAGE.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(title)
    rows: dict[str, int] = {}
    for line in lines[start + 1:]:
        if rows and not line.startswith("|"):
            break
        m = re.match(r"^\|\s*(?:\*\*)?([0-9a-z_]+)\b[^|]*\|\s*(?:\*\*)?(\d+)(?:\*\*)?\s*\|", line)
        if m:
            rows[m.group(1)] = int(m.group(2))
    return rows


def test_coverage_counts_per_document_match_the_catalog():
    sourced = [t for t in CATALOG.targets_of(PLAN) if t.source.get("document")]
    actual = {d: sum(t.source["document"] == d for t in sourced) for d in CATALOG.documents}
    table = _coverage_table("Sourced targets of `demo-2021-2025` per document:")
    assert {k: v for k, v in table.items() if k != "total"} == actual
    assert table["total"] == len(sourced)


def test_coverage_counts_per_kind_match_the_catalog():
    real = CATALOG.targets_of(PLAN)
    table = _coverage_table("Targets of `demo-2021-2025` per kind:")
    assert {k: v for k, v in table.items() if k != "total"} == {
        k: n for k in TARGET_KINDS if (n := sum(t.kind == k for t in real))}
    assert table["total"] == len(real)


def test_every_document_has_short_titles():
    for d in CATALOG.documents.values():
        assert d.short_zh and d.short_en and len(d.short_zh) <= 16, d.id


def test_new_targets_are_sourced_and_in_the_real_plan():
    assert len(NEW_TARGETS) >= 60
    for tid in NEW_TARGETS:
        t = _target(tid)
        assert t.plan == PLAN and t.source["document"] and t.source["clause"], tid
        assert t.comparison in ("ge", "gt", "le", "lt") or t.kind == "coverage", tid
        assert CATALOG.plans[PLAN].start <= t.target_period <= CATALOG.plans[PLAN].end, tid


def _allowed_bases(ind) -> set[str]:
    """Anything over a year-to-date element is ytd; a flow count is per quarter or cumulative; a
    rate of flows is the quarter's rate (stock, or flow); everything else is a stock."""
    temporals = {CATALOG.elements[c].temporal for c in ind.elements()}
    if ind.kind == "coverage":
        return {"stock"}
    if "ytd" in temporals:
        return {"ytd"}
    if "flow" in temporals:
        return {"flow", "cumulative"} if ind.kind == "value" else {"stock", "flow"}
    return {"stock"}


@pytest.mark.parametrize("entry", [i for i in _raw("indicators") if "basis" in i], ids=lambda i: i["code"])
def test_declared_basis_and_level_fit_the_formula(entry):
    ind = CATALOG.indicators[entry["code"]]
    assert ind.basis in _allowed_bases(ind)
    if ind.kind == "coverage":     # a share of villages means nothing for one village
        levels = ("province", "city", "county", "township", "village")
        assert levels.index(ind.min_level) < levels.index(ind.formula["level"])


@pytest.mark.parametrize("code", NEW_INDICATORS)
def test_new_indicators_declare_basis_level_and_demo_hints(code):
    raw = next(i for i in _raw("indicators") if i["code"] == code)
    assert "basis" in raw and "min_level" in raw and "decimals" in raw
    ind = CATALOG.indicators[code]
    for el_code in ind.elements():
        el = CATALOG.elements[el_code]
        assert el.demo, f"{el_code}: no demo block"
        if ind.kind == "ratio" and el_code == ind.formula["denominator"] or el.role == "benchmark":
            lo, hi = el.demo["per_village"]
            assert 0 <= lo <= hi, el_code
        else:
            assert el.demo.get("derived") or el.demo.get("per_village"), el_code
    if ind.unit_zh == "%" and ind.kind == "ratio" and not ind.bounded:
        assert "毛" in ind.name_zh, "a % ratio whose numerator may exceed its denominator is a gross rate"


@pytest.fixture(scope="module")
def demo_facts():
    from metrics import demo, regions
    hierarchy = regions.parse_regions_csv(paths.DEMO_REGIONS_CSV.read_text(encoding="utf-8"))
    return demo.build_demo_facts(CATALOG, hierarchy)


ROOT = next(line.split(",")[0] for line in paths.DEMO_REGIONS_CSV.read_text(encoding="utf-8").splitlines()[1:]
            if line.split(",")[3] == "")


def test_demo_gives_every_new_indicator_sane_values(demo_facts):
    facts = demo_facts.set_index(["element_code", "region_code", "period"])["value"]
    present = set(demo_facts["element_code"])
    for code in NEW_INDICATORS:
        ind = CATALOG.indicators[code]
        for el_code in ind.elements():
            assert el_code in present, f"{code}: the demo writes no {el_code}"
            values = facts.loc[el_code]
            assert (values >= 0).all(), f"{el_code}: negative demo values"
            if ind.kind == "coverage":
                assert set(values.unique()) <= {0.0, 1.0}, el_code
        top_only = all(set(demo_facts.loc[demo_facts["element_code"] == e, "region_code"]) == {ROOT}
                       for e in ind.elements())
        if top_only:     # reported by the banner only: nothing to show below the county
            assert ind.min_level == "county", f"{code}: banner-level data, min_level {ind.min_level}"
        if ind.kind == "ratio" and ind.bounded:
            num = facts.loc[ind.formula["numerator"]]
            den = facts.loc[ind.formula["denominator"]].reindex(num.index)
            assert (num <= den + 1e-9).all(), f"{code}: numerator exceeds denominator in the demo"


def test_readme_states_the_real_plans_target_count():
    readme = paths.REPO_DIR / "README.md"
    m = re.search(r"`demo-2021-2025` carries (\d+) targets", readme.read_text(encoding="utf-8"))
    assert m and int(m.group(1)) == len(CATALOG.targets_of(PLAN))
