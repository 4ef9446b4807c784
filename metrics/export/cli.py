"""``python -m metrics`` subcommands of metrics.export (registered by metrics.cli).

``report [--region CODE] [--period YYYYQn] [--plan ID] [--as-of SNAPSHOT] [--children]
--format docx|pdf [--lang zh|en] -o FILE`` — one region's assessment report, or with
``--children`` a ZIP with the report of every sub-region; ``--sections summary,table`` picks
sections (the cover is always there). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from metrics import i18n, periods

SECTION_KEYS = ("summary", "table", "pillars", "lagging", "method", "appendix")   # = report.SECTIONS (a test checks)


def _progress(lang: str):
    last = {"msg": ""}

    def show(fraction: float, message: str) -> None:
        if message != last["msg"]:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)
            last["msg"] = message
    return show


def cmd_report(args) -> int:
    from metrics.export import report
    from metrics.export.charts import ExportUnavailable
    from metrics.store import Store

    lang = args.lang
    period = None
    if args.period:
        try:
            period = periods.parse_period(args.period)
        except ValueError:
            print(i18n.tr("report_err_period", lang, period=args.period), file=sys.stderr)
            return 2
    sections = [x.strip() for x in args.sections.split(",") if x.strip()] if args.sections else list(report.SECTIONS)
    unknown = [x for x in sections if x not in report.SECTIONS]
    if unknown:
        print(i18n.tr("report_err_sections", lang, bad=", ".join(unknown), known=",".join(report.SECTIONS)),
              file=sys.stderr)
        return 2
    store = Store(args.data_dir)
    if store.is_empty():
        print(i18n.tr("no_data_yet", lang), file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        if args.children:
            body = report.build_children_zip(store, args.region, period, args.plan, args.format, lang,
                                             as_of=args.as_of, sections=sections, progress=_progress(lang))
        else:
            _, body = report.build_report(store, args.region, period, args.plan, args.format, lang,
                                          as_of=args.as_of, sections=sections, progress=_progress(lang))
    except report.ReportError as exc:
        print(exc.message(lang), file=sys.stderr)
        return 2
    except ExportUnavailable as exc:
        print(exc.message(lang), file=sys.stderr)
        return 1
    out = Path(args.output)
    try:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_bytes(body)
        tmp.replace(out)   # a failed run never leaves half a file under the asked-for name
    except OSError as exc:
        print(i18n.tr("report_err_write", lang, path=out, error=exc.strerror or exc), file=sys.stderr)
        return 1
    print(i18n.tr("report_built", lang, name=out, size=len(body) // 1024, secs=time.perf_counter() - started))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the parser (each sets ``func=cmd_…``)."""
    p = sub.add_parser("report", help="评估报告（DOCX/PDF）；--children 生成全部下级地区报告的 ZIP")
    p.add_argument("--region", help="地区代码（默认顶级地区）")
    p.add_argument("--period", help="季度 YYYYQn（默认有数据的最新季度）")
    p.add_argument("--plan", help="规划 ID（默认覆盖该季度的规划）")
    p.add_argument("--as-of", dest="as_of", help="按某个数据版本（号）或某个时间（YYYY-MM-DD[ HH:MM]）当时的数据生成")
    p.add_argument("--children", action="store_true", help="为每个下级地区各生成一份，打包为 ZIP")
    p.add_argument("--sections", help="只含这些部分，逗号分隔：" + ",".join(SECTION_KEYS) + "（默认全部；封面总有）")
    p.add_argument("--format", choices=["docx", "pdf"], required=True)
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("-o", "--output", required=True, help="输出文件（--children 时为 .zip）")
    p.set_defaults(func=cmd_report)
