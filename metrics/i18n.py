"""One translation table for every label, status and unit the UI and exports show.

``tr(key, lang)`` returns the Chinese (default) or English text; statuses carry a colour from
the Okabe–Ito colour-blind-safe palette and an icon, so status is never told by colour alone.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from metrics import paths, reasons
from metrics.auth import text as _auth_text
from metrics.catalog import PILLAR_NAMES
from metrics.export import text as _export_text
from metrics.ingest import text as _ingest_text

LANGS = ("zh", "en")

# status: (zh, en, icon, colour)
# Each status has its own icon (达标 after the target year is not 已达标 before it; 未达标 is not
# 严重滞后), and every colour carries dark text (#111) at a contrast of at least 4.5:1.
STATUS = {
    "achieved":    ("已达标", "Achieved", "✔", "#009E73"),
    "on_track":    ("正常推进", "On track", "➜", "#56B4E9"),
    "accelerate":  ("需加快", "Needs acceleration", "⚠", "#E69F00"),
    "off_track":   ("严重滞后", "Off track", "✖", "#D55E00"),
    "regressing":  ("倒退", "Regressing", "↘", "#CC79A7"),
    "met":         ("达标", "Met", "☑", "#009E73"),
    "not_met":     ("未达标", "Not met", "☒", "#D55E00"),
    "not_started": ("未开始", "Not started", "◷", "#A6A6A6"),
    "no_data":     ("无数据", "No data", "？", "#999999"),
    "no_target":   ("无目标", "No target", "○", "#BBBBBB"),
}
STATUS_ORDER = ["achieved", "met", "on_track", "accelerate", "off_track", "regressing", "not_met",
                "not_started", "no_data", "no_target"]
# how bad a status is, for "most lagging" lists (higher = worse)
STATUS_SEVERITY = {"regressing": 6, "not_met": 5, "off_track": 5, "accelerate": 3, "no_data": 1,
                   "not_started": 0, "on_track": 0, "no_target": 0, "achieved": -1, "met": -1}
LAGGING = 3   # severity from which an indicator or region counts as lagging
TEXT_ON_STATUS = "#111111"

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("乡村振兴目标监测", "Rural Revitalization Target Tracker"),
    "page_overview": ("总览", "Overview"),
    "page_indicator": ("指标详情", "Indicator"),
    "page_compare": ("地区对比", "Comparison"),
    "region": ("地区", "Region"),
    "level_pick": ("下级地区", "Sub-region"),
    "whole": ("（全部）", "(all)"),
    "quarter": ("季度", "Quarter"),
    "plan": ("规划", "Plan"),
    "language": ("语言 / Language", "语言 / Language"),
    "indicator": ("指标", "Indicator"),
    "demo_banner": ("演示数据：以下数字均为合成数据，地区为虚构（代码以 99 开头），不代表任何真实地方。",
                    "Demo data: every number below is synthetic and the regions are fictional (codes start with 99)."),
    "illustrative_plan": ("示例规划：目标为演示用示例，非真实政策。",
                          "Illustrative plan: its targets are examples, not real policy."),
    "no_data_yet": ("还没有任何数据。请先上传数据，或运行 python -m metrics demo 生成演示数据。",
                    "No data yet. Upload data, or run python -m metrics demo for the demo data set."),
    "no_data_region": ("该地区在所选季度没有数据。", "This region has no data for the selected quarter."),
    "no_children": ("该地区没有下级地区。", "This region has no sub-regions."),
    "no_plan": ("没有覆盖所选季度的规划。", "No plan covers the selected quarter."),
    "status_strip": ("指标状态", "Indicator status"),
    "filter_all": ("全部", "All"),
    "value": ("当前值", "Value"),
    "target": ("目标", "Target"),
    "target_year": ("目标年份", "Target year"),
    "expected": ("应达", "Expected now"),
    "progress": ("进度", "Progress"),
    "status": ("状态", "Status"),
    "projection": ("预测", "Projection"),
    "baseline": ("基期值", "Baseline"),
    "vs_prev_q": ("较上季度", "vs prev. quarter"),
    "vs_last_year": ("较上年同期", "vs same quarter last year"),
    "cumulative": ("累计", "cumulative"),
    "annual": ("年度", "annual"),
    "most_lagging_ind": ("最滞后的指标", "Most lagging indicators"),
    "most_lagging_reg": ("进度滞后的下级地区", "Sub-regions furthest behind"),
    "gap": ("差距", "Gap"),
    "actual": ("实际值", "Actual"),
    "expected_path": ("应达路径", "Expected path"),
    "target_line": ("目标值", "Target"),
    "milestone": ("年度任务", "Milestone"),
    "projection_line": ("趋势预测", "Projection"),
    "benchmark": ("对比基准", "Benchmark"),
    "ranking": ("下级地区排名", "Sub-region ranking"),
    "subregion_table": ("下级地区明细", "Sub-regions"),
    "definition": ("定义", "Definition"),
    "formula": ("计算公式", "Formula"),
    "source": ("目标出处", "Target source"),
    "document": ("文件", "Document"),
    "clause": ("条款", "Clause"),
    "quote": ("原文", "Original wording"),
    "provenance": ("数据来源", "Provenance"),
    "snapshot": ("数据版本", "Snapshot"),
    "file": ("文件名", "File"),
    "uploaded": ("上传时间", "Uploaded"),
    "uploaded_by": ("上传人", "By"),
    "department": ("责任单位", "Responsible department"),
    "pillar": ("领域", "Pillar"),
    "heatmap": ("下级地区 × 指标 状态矩阵", "Sub-regions × indicators scorecard"),
    "open_indicator": ("查看指标详情", "Open indicator"),
    "table": ("明细表", "Table"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_xlsx": ("下载 XLSX", "Download XLSX"),
    "no_target_here": ("该地区此指标无目标：仅显示数值和趋势。", "No target for this region: value and trend only."),
    "too_few_points": ("数据点不足，无法预测", "too few points for a projection"),
    "inherited_target": ("目标继承自上级地区", "target set for a parent region"),
    "final_note": ("目标期已过，状态为最终评估", "target period passed: final assessment"),
    "formula_ratio": ("{num} ÷ {den} × {scale}", "{num} ÷ {den} × {scale}"),
    "formula_value": ("{el}（各地区{agg}）", "{el} ({agg} over regions)"),
    "formula_yoy": ("（本期 {el} ÷ 上年同期 − 1）× 100", "({el} this quarter ÷ same quarter last year − 1) × 100"),
    "formula_coverage": ("拥有 {el} 的{level}数 ÷ {level}总数 × 100", "{level}s with {el} ÷ all {level}s × 100"),
    "agg_sum": ("求和", "summed"),
    "agg_weighted_mean": ("按{w}加权平均", "mean weighted by {w}"),
    "region_col": ("地区", "Region"),
    "sort_by": ("排序", "Sort by"),
    "n_indicators": ("{n} 个指标", "{n} indicators"),
    "pick_indicator": ("选择指标", "Choose an indicator"),
    "export": ("导出", "Export"),
    "judged_at": ("{year} 年末（目标年）", "end of {year} (target year)"),
    "latest_value": ("最新值", "Latest value"),
    "no_target_section": ("无目标的指标（{n} 个）", "Indicators without a target ({n})"),
    "no_lagging": ("没有滞后的指标。", "No indicator is lagging."),
    "no_lagging_regions": ("没有滞后的下级地区。", "No sub-region is lagging."),
    "unknown_param": ("链接中的参数 {param}={value} 无法识别，已改为显示默认{what}。",
                      "The link's parameter {param}={value} was not recognised: showing the default {what}."),
    "what_region": ("地区", "region"),
    "what_period": ("季度", "quarter"),
    "what_plan": ("规划", "plan"),
    "what_indicator": ("指标", "indicator"),
    "what_lang": ("语言", "language"),
    "heatmap_hint": ("点击单元格即可打开该地区的该指标详情。", "Click a cell to open that region's indicator."),
    "lagging_count": ("滞后指标数", "Lagging indicators"),
    "progress_help": ("进度 = 实际进展 ÷ 应有进展", "Progress = progress made ÷ progress expected by now"),
    "reason": ("原因", "Reason"),
    "interactive_chart": ("交互式图表", "Interactive chart"),
    "interactive_help": ("显示可悬停查看数值、可缩放的图表（加载较慢）。",
                         "Show charts with hover values and zoom (slower to load)."),
}

LEVEL = {
    "nation": ("全国", "Nation"), "province": ("省", "Province"), "city": ("市", "City"),
    "county": ("县（旗）", "County"), "township": ("乡镇（苏木）", "Township"), "village": ("村（嘎查）", "Village"),
}

UNITS_EN = {"座": "units", "公里": "km", "%": "%", "元": "yuan", "人": "persons", "户": "households",
            "个": "", "次": "times", "所": "", "家": "", "人次": "person-times"}


# each subpackage keeps its own strings (metrics/<package>/text.py); one table at run time
for _extra in (_auth_text.TEXT, _ingest_text.TEXT, _export_text.TEXT):
    _clash = set(_extra) & set(TEXT)
    assert not _clash, f"i18n keys defined twice: {sorted(_clash)}"
    TEXT.update(_extra)


QUARTER_ZH = "一二三四"
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_label(period: str, lang: str = "zh") -> str:
    """A quarter in the UI's language: 2023年三季度 / 2023 Q3."""
    year, q = period[:4], int(period[-1])
    return f"{year} Q{q}" if lang == "en" else f"{year}年{QUARTER_ZH[q - 1]}季度"


def year_label(year: int | str, lang: str = "zh") -> str:
    return str(year) if lang == "en" else f"{year}年"


def local_time(stamp: str | dt.datetime | None, lang: str = "zh", tz: str | None = None) -> str:
    """A stored timestamp as a leader reads it: 2026年11月22日 14:05 / 22 Nov 2026 14:05.

    Aware timestamps are converted to ``tz`` (default: the display_timezone setting); naive
    ones are wall-clock times already and are shown as they are.
    """
    if stamp is None or stamp == "":
        return "—"
    when = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(str(stamp))
    if when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(tz or str(paths.settings()["display_timezone"])))
    if lang == "en":
        return f"{when.day} {MONTHS_EN[when.month - 1]} {when.year} {when:%H:%M}"
    return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"


def number(value: float | None, decimals: int = 1, signed: bool = False) -> str:
    """One number for display: thousands separators, the indicator's decimals, rounded half up
    as the method compares it; never nan, None or -0."""
    if value is None or not math.isfinite(value):
        return "—"
    return reasons.number_text(float(value), decimals, signed)


def percent(ratio: float | None) -> str:
    """A progress ratio as a whole percentage (0.42 → 42%), rounded as the status compares it."""
    if ratio is None or not math.isfinite(ratio):
        return "—"
    return reasons.percent_text(ratio)


def with_unit(value: float | None, decimals: int, unit_text: str, lang: str = "zh",
              signed: bool = False) -> str:
    """A value with its unit (units that read as a word get a space in English)."""
    text = number(value, decimals, signed)
    if text == "—" or not unit_text:
        return text
    sep = "" if unit_text == "%" or lang == "zh" else " "
    if lang == "en" and text.lstrip("+-−") == "1":
        unit_text = singular(unit_text)
    return f"{text}{sep}{unit_text}"


_SINGULAR = {"children": "child", "consortia": "consortium", "persons": "person"}


def singular(unit_en: str) -> str:
    """An English count unit for one (1 station, 1 child); measures and per-units stay as they are."""
    if "/" in unit_en or " " in unit_en:          # yuan/person, 10k yuan: not a count of things
        return unit_en
    head, dash, last = unit_en.rpartition("-")   # person-times, household-hours: the last word
    if last in _SINGULAR:
        one = _SINGULAR[last]
    elif last.endswith("ies"):
        one = last[:-3] + "y"
    elif last.endswith("s") and len(last) > 2:
        one = last[:-1]
    else:
        return unit_en
    return f"{head}{dash}{one}"


def basis_label(basis: str | None, lang: str = "zh") -> str:
    """累计 / 本季新增 / 年初至今 / 期末 (the method's words)."""
    return reasons.basis_label(basis, lang) if basis else ""


def tr(key: str, lang: str = "zh", **fmt) -> str:
    zh, en = TEXT[key]
    text = en if lang == "en" else zh
    return text.format(**fmt) if fmt else text


def colon(lang: str = "zh") -> str:
    return ": " if lang == "en" else "："


def paren(text: str, lang: str = "zh") -> str:
    return f" ({text})" if lang == "en" else f"（{text}）"


def status_label(status: str, lang: str = "zh", icon: bool = True) -> str:
    zh, en, ic, _ = STATUS[status]
    text = en if lang == "en" else zh
    return f"{ic} {text}" if icon else text


def status_colour(status: str) -> str:
    return STATUS[status][3]


def pillar_name(pillar: str, lang: str = "zh") -> str:
    zh, en = PILLAR_NAMES[pillar]
    return en if lang == "en" else zh


def level_name(level: str, lang: str = "zh") -> str:
    zh, en = LEVEL[level]
    return en if lang == "en" else zh


def name(obj, lang: str = "zh") -> str:
    """Bilingual name of anything with name_zh/name_en (indicator, element, plan)."""
    return (getattr(obj, "name_en", "") or obj.name_zh) if lang == "en" else obj.name_zh


def region_name(region, lang: str = "zh") -> str:
    return (region.name_en or region.name) if lang == "en" else region.name


def unit(indicator, lang: str = "zh") -> str:
    return indicator.unit_en if lang == "en" else indicator.unit_zh
