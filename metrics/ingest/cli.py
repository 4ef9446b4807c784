"""``python -m metrics`` subcommands of metrics.ingest (registered by metrics.cli).

``template``, ``ingest FILE``, ``targets import FILE``, ``regions import FILE``, ``lock``/``unlock``.
Each opens the library, calls it and prints; exit 0 only when the file is valid (and, without
``--dry-run``, published).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from metrics.auth import PermissionDenied, cli_user


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _store(args):
    from metrics.store import Store
    return Store(args.data_dir)


def _read_file(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        print(f"无法打开文件 {path}：{exc.strerror}", file=sys.stderr)
        return None


def _print_issues(items: list[dict], label: str) -> None:
    for it in items:
        where = f"{it['sheet']}!" if it.get("sheet") else ""
        print(f"  {label} {where}第 {it['row']} 行 [{it['column']}] {it['code']}：{it['message']}")


def cmd_template(args) -> int:
    from metrics.ingest import templates
    store = _store(args)
    data = templates.template(store.catalog, store.hierarchy, layout=args.layout, fmt=args.format,
                              level=args.level, parent=args.parent)
    Path(args.output).write_bytes(data)
    print(f"模板已写入 {args.output}")
    return 0


def cmd_ingest(args) -> int:
    from metrics.i18n import status_label
    from metrics.ingest import dryrun, publish
    data = _read_file(args.file)
    if data is None:
        return 2
    store = _store(args)
    if args.parent and args.parent not in store.hierarchy:
        print(f"未知上级地区代码：{args.parent}", file=sys.stderr)
        return 2
    report = dryrun.check(store, data, Path(args.file).name, parent=args.parent)
    summary = dryrun.summarize(store, report, with_status=args.dry_run, lang=args.lang)
    out = {**report.to_dict(args.lang), **summary.counts(),
           "status_moves": summary.status_moves.to_dict(orient="records")}
    code = 0 if report.ok else 1
    if report.ok and not args.dry_run:
        try:
            snap = publish.publish(store, report, user=cli_user(args.user), comment=args.comment or "",
                                   acknowledge_warnings=True, summary=summary)
            out["snapshot"] = snap.id
        except publish.PublishRefused as exc:
            out["published"] = False
            out["refused"] = exc.message(args.lang)
            code = 1
    if args.json:
        _print_json(out)
        return code
    if report.fatal:
        print(report.fatal if args.lang != "en" else report.fatal_en, file=sys.stderr)
        return 1
    print(f"{report.source_name}：读取 {report.rows_read} 行，有效 {report.rows_valid} 个数值；"
          f"新增 {summary.new}，修改 {summary.changed}，不变 {summary.unchanged}，忽略 {summary.ignored}")
    _print_issues(out["errors"], "错误")
    _print_issues(out["warnings"], "警告")
    for m in summary.status_moves.itertuples():
        print(f"  状态变化 {m.region} {m.indicator}：{status_label(m.before, args.lang)} → {status_label(m.after, args.lang)}")
    if "snapshot" in out:
        print(f"已发布：数据版本 {out['snapshot']}")
    elif "refused" in out:
        print(f"未发布：{out['refused']}", file=sys.stderr)
    return code


def cmd_targets_import(args) -> int:
    from metrics.ingest import targets
    data = _read_file(args.file)
    if data is None:
        return 2
    store = _store(args)
    result = targets.check(store, data, Path(args.file).name)
    moves = targets.status_moves(store, result, args.lang)
    out = {**result.to_dict(args.lang), "status_moves": moves.to_dict(orient="records")}
    code = 0 if result.ok else 1
    if result.ok and not args.dry_run:
        try:
            version = targets.publish(store.dir, result, user=cli_user(args.user), comment=args.comment or "")
            out["version"] = version
        except ValueError as exc:
            out["refused"] = str(exc)
            code = 1
    if args.json:
        _print_json(out)
        return code
    print(f"{Path(args.file).name}：{out['rows_read']} 行，有效目标 {out['rows_valid']} 个")
    _print_issues(out["errors"], "错误")
    _print_issues(out["warnings"], "警告")
    from metrics.i18n import status_label
    for m in moves.itertuples():
        print(f"  状态变化 {m.region} {m.indicator}：{status_label(m.before, args.lang)} → {status_label(m.after, args.lang)}")
    if "version" in out:
        print(f"已发布目标版本 {out['version']}")
    elif "refused" in out:
        print(f"未发布：{out['refused']}", file=sys.stderr)
    return code


def cmd_regions_import(args) -> int:
    from metrics.ingest import regions
    data = _read_file(args.file)
    if data is None:
        return 2
    result = regions.check(data, Path(args.file).name)
    out = result.to_dict(args.lang)
    code = 0 if result.ok else 1
    if result.ok and not args.dry_run:
        try:
            regions.install(_store(args), result, user=cli_user(args.user))
            out["imported"] = True
        except PermissionDenied as exc:
            out["refused"] = str(exc)
            code = 1
    if args.json:
        _print_json(out)
        return code
    print(f"{Path(args.file).name}：{out['regions']} 个地区，{len(out['errors'])} 个错误")
    _print_issues(out["errors"], "错误")
    if out.get("imported"):
        print("区划表已导入")
    return code


def cmd_lock(args) -> int:
    from metrics import paths
    from metrics.ingest import locks
    try:
        fn = locks.lock if args.command == "lock" else locks.unlock
        period = fn(paths.data_dir(args.data_dir), args.period, cli_user(args.user))
    except ValueError:
        print(f"季度格式应为 YYYYQn，例如 2024Q2：{args.period}", file=sys.stderr)
        return 2
    print(f"{'已锁定' if args.command == 'lock' else '已解锁'} {period}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the parser (each sets ``func=cmd_…``)."""
    def common(p, json_flag=True):
        if json_flag:
            p.add_argument("--json", action="store_true")
        p.add_argument("--lang", choices=["zh", "en"], default="zh")
        p.add_argument("--user", default=None, help="记录为操作人的名字（默认操作系统账户）")

    p = sub.add_parser("template", help="下载上传模板（宽表 XLSX 或长表 CSV）")
    p.add_argument("--level", choices=["province", "city", "county", "township", "village"])
    p.add_argument("--parent")
    p.add_argument("--layout", choices=["wide", "long"], default="wide")
    p.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("ingest", help="校验并发布一个数据文件（CSV/XLSX）")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="只校验和预览，不发布")
    p.add_argument("--comment", help="发布说明（发布时必填）")
    p.add_argument("--parent", help="按名称匹配地区时限定的上级地区代码")
    common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("targets", help="目标管理")
    tsub = p.add_subparsers(dest="targets_command", required=True)
    t = tsub.add_parser("import", help="导入目标文件（CSV/XLSX）")
    t.add_argument("file")
    t.add_argument("--dry-run", action="store_true")
    t.add_argument("--comment")
    common(t)
    t.set_defaults(func=cmd_targets_import)

    p = sub.add_parser("regions", help="区划表")
    rsub = p.add_subparsers(dest="regions_command", required=True)
    r = rsub.add_parser("import", help="导入区划表 CSV（code,name,level,parent）")
    r.add_argument("file")
    r.add_argument("--dry-run", action="store_true")
    common(r)
    r.set_defaults(func=cmd_regions_import)

    for name, help_text in (("lock", "锁定一个季度（管理员）"), ("unlock", "解锁一个季度（管理员）")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("period")
        p.add_argument("--user", default=None)
        p.set_defaults(func=cmd_lock)
