"""One line, in Chinese or English, saying why an assessment has its status; basis labels.

Pure: reads an ``Assessment``'s ``reason`` code and ``reason_args``; imports nothing from the UI.
"""

from __future__ import annotations

from metrics import periods
from metrics.progress import P_DECIMALS, Assessment, shown
from metrics.regions import LEVEL_NAMES_ZH

BASIS_LABELS = {
    "stock": ("期末", "End of period"),
    "cumulative": ("累计", "Cumulative"),
    "flow": ("本季新增", "New this quarter"),
    "ytd": ("年初至今", "Year to date"),
}

# code: (zh, en) — str.format fields come from reason_args (formatted below)
REASONS = {
    "achieved": ("已达到目标", "Target already met"),
    "final_met": ("{year} 年末（目标年）达到目标", "Met the target at the end of {year} (target year)"),
    "final_not_met": ("{year} 年末（目标年）未达到目标",
                      "Did not meet the target at the end of {year} (target year)"),
    "on_track": ("进度为应达的 {p}", "Progress is {p} of what is due"),
    "behind": ("进度为应达的 {p}", "Progress is {p} of what is due"),
    "regressing": ("较基期倒退（进度 {p}）", "Worse than at the base period (progress {p})"),
    "projection": ("按近 8 季趋势，预计 {year} 年可达标",
                   "On the last 8 quarters' trend, expected to meet the target in {year}"),
    "projection_annual": ("按近 4 年全年值趋势，预计 {year} 年可达标",
                          "On the last 4 full years' trend, expected to meet the target in {year}"),
    "due_reached": ("已达到当前应达值", "Has reached what is due by now"),
    "nothing_required": ("基期已达到目标，现已低于目标", "Met the target at the base period, short of it now"),
    "not_started": ("目标自 {start} 起计，尚未开始", "Counting starts in {start}; not started yet"),
    "no_value": ("本季度无数据", "No data for this quarter"),
    "single_point": ("仅有一个数据点，无法评估进度", "Only one data point; progress cannot be assessed"),
    "missing_quarters": ("缺少 {quarters} 的数据，累计值不完整",
                         "No data for {quarters}; the cumulative total is incomplete"),
    "no_benchmark": ("无对比基准数据", "No benchmark data"),
    "relative_met": ("不低于基准 {benchmark}（差 {margin}）", "At or above the benchmark {benchmark} ({margin})"),
    "relative_met_strict": ("高于基准 {benchmark}（差 {margin}）", "Above the benchmark {benchmark} ({margin})"),
    "relative_not_met": ("低于基准 {benchmark}（差 {margin}）", "Below the benchmark {benchmark} ({margin})"),
    "relative_gap": ("低于基准 {benchmark}（差 {margin}），基期差距已缩小 {closed}，应缩小 {due}",
                     "Below the benchmark {benchmark} ({margin}); {closed} of the base gap closed, {due} due"),
    "no_target": ("无目标", "No target"),
    "no_data": ("无数据", "No data"),
}
TOO_FEW_POINTS = ("；数据不足，无法预测", "; too few data points to project")
EXPECTED_MODES = {
    "seasonal": ("（应达按往年季节规律）", " (expected along the seasonal pattern of earlier years)"),
    "pro_rata": ("（应达按季度平均）", " (expected pro rata by quarter)"),
}
ANNUAL = ("按 {year} 年全年值：", "On the {year} full-year value: ")


def _i(lang: str) -> int:
    return 1 if lang == "en" else 0


def basis_label(basis: str, lang: str = "zh") -> str:
    return BASIS_LABELS.get(basis, BASIS_LABELS["stock"])[_i(lang)]


def quarter_label(period: str, lang: str = "zh") -> str:
    """2023年三季度 / 2023 Q3."""
    year, q = periods.year_of(period), periods.quarter_of(period)
    return f"{year} Q{q}" if lang == "en" else f"{year}年{'一二三四'[q - 1]}季度"


def percent_text(p: float | None) -> str:
    """p as a whole percent, rounded as the status compares it (0.42 → 42%)."""
    if p is None:
        return "—"
    value = shown(p, P_DECIMALS) * 100
    return f"{value + 0.0:.0f}%"


def number_text(x: float | None, decimals: int = 1, signed: bool = False) -> str:
    if x is None:
        return "—"
    value = shown(x, decimals) + 0.0          # never -0.0
    return f"{value:+,.{decimals}f}" if signed and value != 0 else f"{value:,.{decimals}f}"


def _join(items: list[str], lang: str) -> str:
    return ", ".join(items) if lang == "en" else "、".join(items)


def reason_text(a: Assessment, lang: str = "zh", decimals: int = 1) -> str:
    """The one-line reason beside a status (``decimals``: the indicator's, for benchmark values)."""
    i = _i(lang)
    code = a.reason or a.status
    args = a.reason_args
    if code == "projection" and a.basis == "ytd":
        code = "projection_annual"
    if code == "relative_met" and args.get("strict"):
        code = "relative_met_strict"
    if code not in REASONS:
        return ""
    fields = {
        "year": args.get("year", ""),
        "p": percent_text(args.get("p", a.progress)),
        "start": quarter_label(args["start"], lang) if args.get("start") else "",
        "quarters": _join([quarter_label(q, lang) for q in args.get("quarters", a.missing_quarters)], lang),
        "benchmark": number_text(args.get("benchmark"), decimals),
        "margin": number_text(args.get("margin"), decimals, signed=True),
        "closed": percent_text(args.get("closed")),
        "due": percent_text(args.get("due")),
    }
    text = REASONS[code][i].format(**fields)
    if args.get("annual_year") and code not in ("no_value", "not_started"):
        text = ANNUAL[i].format(year=args["annual_year"]) + text
    if a.expected_mode in EXPECTED_MODES and code in ("on_track", "behind", "regressing", "projection"):
        text += EXPECTED_MODES[a.expected_mode][i]
    if "too_few_points" in a.notes and code in ("behind", "regressing"):
        text += TOO_FEW_POINTS[i]
    return text


LEVEL_NAMES_EN = {"nation": "nation", "province": "province", "city": "city", "county": "county",
                  "township": "Township", "village": "Village"}


def not_applicable_text(min_level: str, level: str, lang: str = "zh") -> str:
    """Why an indicator is not shown for a region below its lowest meaningful level."""
    if lang == "en":
        return (f"Only meaningful for a {LEVEL_NAMES_EN[min_level].lower()} or above; "
                f"not applicable to a {LEVEL_NAMES_EN[level].lower()}")
    return f"该指标只对{LEVEL_NAMES_ZH[min_level]}及以上有意义，不适用于{LEVEL_NAMES_ZH[level]}"
