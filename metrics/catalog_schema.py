"""JSON Schemas of the catalog data files (data/catalog/*.yaml). See data/catalog/SCHEMA.md."""

from __future__ import annotations

CODE = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
PERIOD = {"type": "string", "pattern": "^[0-9]{4}Q[1-4]$"}
TEXT = {"type": "string", "minLength": 1}
NULLABLE_TEXT = {"type": ["string", "null"]}
PILLARS = ["industry", "ecology", "civility", "governance", "prosperity", "consolidation", "infrastructure"]
TARGET_KINDS = ["threshold", "trajectory", "milestones", "relative", "schedule", "coverage"]

DOCUMENT = {
    "type": "object",
    "required": ["id", "file", "title_zh", "title_en", "year"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]{3}$"},
        "file": TEXT, "title_zh": TEXT, "title_en": TEXT, "issuer_zh": NULLABLE_TEXT,
        "short_zh": TEXT, "short_en": TEXT,   # short titles the pages show (full title on hover)
        "year": {"type": "integer"},
    },
    "additionalProperties": False,
}

ELEMENT = {
    "type": "object",
    "required": ["code", "name_zh", "name_en", "unit_zh", "unit_en", "temporal", "aggregation"],
    "properties": {
        "code": CODE, "name_zh": TEXT, "name_en": TEXT, "unit_zh": TEXT, "unit_en": TEXT,
        "temporal": {"enum": ["flow", "stock", "ytd"]},
        # over regions: sum (additive), weighted_mean (by ``weight``), or none — benchmarks,
        # published averages and ratios apply to their own region (inherited downward), never summed
        "aggregation": {"enum": ["sum", "weighted_mean", "none"]},
        "weight": {"anyOf": [CODE, {"type": "null"}]},
        "cumulative": {"type": "boolean"},
        "percent": {"type": "boolean"},
        "role": {"enum": ["data", "benchmark"]},
        "demo": {"type": "object"},
        "note_zh": NULLABLE_TEXT,
    },
    "additionalProperties": False,
}

FORMULA = {
    "type": "object",
    "required": ["type"],
    "oneOf": [
        {"properties": {"type": {"const": "value"}, "element": CODE},
         "required": ["element"], "additionalProperties": False},
        # subset: the numerator is a subset of the denominator (default), so it never exceeds it;
        # false for gross rates (毛入学率) and per-unit ratios (千伏安/户, 元/人)
        {"properties": {"type": {"const": "ratio"}, "numerator": CODE, "denominator": CODE,
                        "scale": {"type": "number"}, "subset": {"type": "boolean"}},
         "required": ["numerator", "denominator"], "additionalProperties": False},
        {"properties": {"type": {"const": "yoy_growth"}, "element": CODE},
         "required": ["element"], "additionalProperties": False},
        {"properties": {"type": {"const": "coverage"}, "element": CODE,
                        "level": {"enum": ["province", "city", "county", "township", "village"]}},
         "required": ["element", "level"], "additionalProperties": False},
    ],
}

INDICATOR = {
    "type": "object",
    "required": ["code", "name_zh", "name_en", "pillar", "department_zh", "department_en", "unit_zh",
                 "unit_en", "direction", "formula", "definition_zh", "definition_en"],
    "properties": {
        "code": CODE, "name_zh": TEXT, "name_en": TEXT,
        "pillar": {"enum": PILLARS},
        "department_zh": TEXT, "department_en": TEXT, "unit_zh": TEXT, "unit_en": TEXT,
        "direction": {"enum": ["higher", "lower"]},
        "decimals": {"type": "integer", "minimum": 0, "maximum": 4},
        # the one basis every number shown for it uses: level at quarter end, cumulative since
        # the plan's base, new this quarter, or year-to-date (累计 / 本季新增 / 年初至今)
        "basis": {"enum": ["stock", "cumulative", "flow", "ytd"]},
        # lowest level at which it means something (shares of townships: township)
        "min_level": {"enum": ["province", "city", "county", "township", "village"]},
        "formula": FORMULA,
        "definition_zh": TEXT, "definition_en": TEXT,
    },
    "additionalProperties": False,
}

PLAN = {
    "type": "object",
    "required": ["id", "name_zh", "name_en", "start", "base", "end"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "name_zh": TEXT, "name_en": TEXT, "start": PERIOD, "base": PERIOD, "end": PERIOD,
        "region": {"type": ["string", "null"]},
        "illustrative": {"type": "boolean"},
    },
    "additionalProperties": False,
}

SOURCE = {
    "type": "object",
    "required": ["document", "clause", "quote_zh"],
    "properties": {"document": NULLABLE_TEXT, "clause": NULLABLE_TEXT, "quote_zh": NULLABLE_TEXT},
    "additionalProperties": False,
}

NUMBER_MAP = {"type": "object", "minProperties": 1, "additionalProperties": {"type": "number"}}

TARGET = {
    "type": "object",
    "required": ["id", "plan", "indicator", "kind", "target_period", "source"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "plan": TEXT, "indicator": CODE, "kind": {"enum": TARGET_KINDS},
        "region": {"type": ["string", "null"]},
        "target_period": PERIOD,
        "target_value": {"type": "number"},
        "baseline_value": {"type": "number"},
        "baseline_period": PERIOD,
        "comparison": {"enum": ["ge", "le", "gt", "lt"]},
        "milestones": {"type": "object", "minProperties": 1,
                       "propertyNames": {"pattern": "^[0-9]{4}$"},
                       "additionalProperties": {"type": "number", "minimum": 0}},
        "schedule": {**NUMBER_MAP, "propertyNames": {"pattern": "^[0-9]{4}Q[1-4]$"}},
        "benchmark": CODE,
        "margin": {"type": "number"},
        "source": SOURCE,
        "note_zh": NULLABLE_TEXT,
    },
    "allOf": [
        {"if": {"properties": {"kind": {"enum": ["threshold", "coverage"]}}},
         "then": {"required": ["target_value"]}},
        {"if": {"properties": {"kind": {"const": "trajectory"}}},
         "then": {"required": ["target_value", "baseline_value", "baseline_period"]}},
        {"if": {"properties": {"kind": {"const": "milestones"}}}, "then": {"required": ["milestones"]}},
        {"if": {"properties": {"kind": {"const": "schedule"}}}, "then": {"required": ["schedule"]}},
        {"if": {"properties": {"kind": {"const": "relative"}}}, "then": {"required": ["benchmark"]}},
    ],
    "additionalProperties": False,
}

SCHEMAS = {
    "documents": DOCUMENT,
    "elements": ELEMENT,
    "indicators": INDICATOR,
    "plans": PLAN,
    "targets": TARGET,
}
