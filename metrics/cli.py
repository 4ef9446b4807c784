"""``python -m metrics`` — the core without the UI. Opens the library, calls it, prints."""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
from pathlib import Path

from metrics import paths, periods


def _store(args):
    from metrics.store import Store
    return Store(args.data_dir)


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def cmd_demo(args) -> int:
    from metrics import demo
    store = _store(args)
    if not store.is_empty() and not args.force:
        print(f"数据目录 {store.dir} 已有数据；如需重建演示数据请加 --force", file=sys.stderr)
        return 1
    if args.force:
        for name in ("snapshots", "rollups", "log", "shards", "cache"):
            shutil.rmtree(store.dir / name, ignore_errors=True)
        (store.dir / "manifest.json").unlink(missing_ok=True)
        store = _store(args)
    snaps = demo.write_demo(store)
    print(f"演示数据已生成：{len(snaps)} 个数据版本，版本号 {store.version()}，目录 {store.dir}")
    return 0


def cmd_catalog(args) -> int:
    from metrics.catalog import default_catalog
    cat = default_catalog()
    if args.json:
        _print_json({
            "documents": [d.__dict__ for d in cat.documents.values()],
            "plans": [p.__dict__ for p in cat.plans.values()],
            "elements": [{k: v for k, v in e.__dict__.items() if k != "demo"} for e in cat.elements.values()],
            "indicators": [{**i.__dict__, "targets": [t.__dict__ for t in cat.targets if t.indicator == i.code]}
                           for i in cat.indicators.values()],
        })
        return 0
    for ind in cat.indicators.values():
        targets = [t for t in cat.targets if t.indicator == ind.code]
        print(f"{ind.code:32} {ind.name_zh}（{ind.unit_zh}）  目标 {len(targets)} 个")
    print(f"共 {len(cat.indicators)} 个指标，{len(cat.targets)} 个目标")
    return 0


def cmd_status(args) -> int:
    from metrics import query, reasons
    from metrics.store import StoreError
    from metrics.store.cli import as_of
    try:
        store = as_of(_store(args), args.as_of)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    region = args.region or store.hierarchy.root.code
    if region not in store.hierarchy:
        print(f"未知地区代码：{region}", file=sys.stderr)
        return 2
    if args.plan and args.plan not in store.catalog.plans:
        print(f"未知规划：{args.plan}（可用：{', '.join(store.catalog.plans)}）", file=sys.stderr)
        return 2
    period = None
    if args.period:
        try:
            period = periods.parse_period(args.period)
        except ValueError:
            print(f"季度格式应为 YYYYQn，例如 2024Q2：{args.period}", file=sys.stderr)
            return 2
    plan, period, rows = query.assess_region(store, region, period, args.plan)
    if plan is None:
        print("没有数据或没有覆盖该季度的规划", file=sys.stderr)
        return 1
    r = store.hierarchy[region]
    demo = any(s.demo for s in store.snapshots() if not s.retracted)
    if args.json:
        _print_json({"region": {"code": r.code, "name": r.name, "level": r.level},
                     "period": period, "plan": {"id": plan.id, "name_zh": plan.name_zh},
                     "demo": demo, "snapshot_version": store.version(),
                     "indicators": [row.to_dict() for row in rows]})
        return 0
    if demo:
        print("【演示数据】")
    print(f"{r.name}  {periods.label_zh(period)}  {plan.name_zh}")
    for row in rows:
        d = row.to_dict()
        fmt = lambda v, dec=row.indicator.decimals: "—" if v is None else f"{v:,.{dec}f}"  # noqa: E731
        p = reasons.percent_text(d["p"])
        print(f"{row.indicator.name_zh:24} {d['basis_zh']} 值 {fmt(d['value']):>10} 目标 {fmt(d['target']):>10} "
              f"应达 {fmt(d['expected']):>10} 进度 {p:>6} {d['status']}  {d['reason_zh']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m metrics", description="乡村振兴目标监测 — 命令行")
    parser.add_argument("--data-dir", default=None,
                        help=f"数据目录（默认 ${paths.DATA_DIR_ENV} 或 data/）")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="生成演示数据")
    p.add_argument("--force", action="store_true", help="清除已有数据后重建")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("catalog", help="指标、目标及其出处")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser("status", help="某地区某季度各指标的进度与状态")
    p.add_argument("--region")
    p.add_argument("--period")
    p.add_argument("--plan")
    p.add_argument("--json", action="store_true")
    p.add_argument("--as-of", dest="as_of", help="某数据版本发布后或某时刻的状态（版本号或日期时间）")
    p.set_defaults(func=cmd_status)

    for module in SUBPACKAGE_CLIS:
        importlib.import_module(module).register(sub)
    return parser


# each subpackage adds its own subcommands (users …, ingest/template …, report …)
SUBPACKAGE_CLIS = ("metrics.auth.cli", "metrics.ingest.cli", "metrics.export.cli", "metrics.store.cli")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir:
        args.data_dir = str(Path(args.data_dir).resolve())
    return args.func(args)
