"""Store subcommands: snapshots, retract, restore, diff, store upgrade|rebuild|check, bench."""

from __future__ import annotations

import json
import sys

from metrics import auth


def _store(args):
    from metrics.store import Store
    return Store(args.data_dir)


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def as_of(store, text: str | None):
    """``--as-of`` (a snapshot id or a date/time) applied to a store: its view, or the store itself."""
    if not text:
        return store
    from metrics.store.view import parse_as_of
    return store.at(**parse_as_of(text))


def cmd_snapshots(args) -> int:
    from metrics.store import StoreError
    try:
        store = as_of(_store(args), args.as_of)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    snaps = store.snapshots()
    if args.json:
        _print_json([s.__dict__ for s in snaps])
        return 0
    for s in snaps:
        flag = "（已撤回）" if s.retracted else ""
        print(f"{s.id:>4}  {s.created_at}  {s.user}  {s.rows:>8} 行  {s.source_name}  {s.comment}{flag}")
    return 0


def _toggle(args, action: str) -> int:
    from metrics.store import StoreError
    try:
        fn = getattr(_store(args), action)
        snap = fn(args.id, user=auth.cli_user(args.user), comment=args.comment)
    except (StoreError, auth.PermissionDenied) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    verb = "已撤回" if action == "retract" else "已恢复"
    print(f"{verb}数据版本 {snap.id}（{snap.source_name}）")
    return 0


def cmd_retract(args) -> int:
    return _toggle(args, "retract")


def cmd_restore(args) -> int:
    return _toggle(args, "restore")


def cmd_diff(args) -> int:
    from metrics.store import StoreError
    try:
        frame = _store(args).diff(args.a, args.b)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        _print_json(frame.astype(object).where(frame.notna(), None).to_dict(orient="records"))
        return 0
    for r in frame.itertuples(index=False):
        print(f"{r.region_code}  {r.element_code:28} {r.period}  {r.old!s:>14} → {r.new!s:<14}")
    print(f"共 {len(frame)} 项不同（版本 {args.a} 之后 → 版本 {args.b} 之后）")
    return 0


def cmd_store(args) -> int:
    from metrics.store import Store, upgrade
    if args.action == "upgrade":
        store = Store(args.data_dir, recover=False)
        if not upgrade.is_legacy(store.dir):
            print(f"数据目录 {store.dir} 已是新格式，无需升级")
            return 0
        with store._locked():
            n = upgrade.upgrade_locked(store)
        print(f"已升级：{n} 个数据版本转入 Delta 日志，旧文件移至 {store.dir / upgrade.LEGACY_DIR}")
        return 0
    if args.action == "rebuild":
        n = Store(args.data_dir).rebuild(user=auth.cli_user(args.user))
        print(f"已从事实日志重建汇总：{n} 个分片文件")
        return 0
    return 2


def cmd_bench(args) -> int:
    from metrics import bench
    try:
        result = bench.run(scale=args.scale, repeats=args.repeats, browser=args.browser, ingest=args.ingest,
                           progress=lambda m: print(m, file=sys.stderr, flush=True))
    except bench.BenchError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        _print_json(result)
    else:
        bench.print_report(result)
    return 1 if result.get("failures") else 0   # what was measured is printed either way


def register(sub) -> None:
    p = sub.add_parser("snapshots", help="数据版本列表")
    p.add_argument("--json", action="store_true")
    p.add_argument("--as-of", dest="as_of", help="某数据版本发布后或某时刻的状态（版本号或日期时间）")
    p.set_defaults(func=cmd_snapshots)

    for name, fn, text in (("retract", cmd_retract, "撤回一个数据版本"), ("restore", cmd_restore, "恢复已撤回的数据版本")):
        p = sub.add_parser(name, help=text)
        p.add_argument("id", type=int)
        p.add_argument("--user", default=None, help="操作人（默认为系统账户名）")
        p.add_argument("--comment", default=None)
        p.set_defaults(func=fn)

    p = sub.add_parser("diff", help="两个数据版本发布后的数值差异")
    p.add_argument("a", type=int)
    p.add_argument("b", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("store", help="存储维护：upgrade 升级旧数据目录；rebuild 从日志重建汇总")
    p.add_argument("action", choices=["upgrade", "rebuild"])
    p.add_argument("--user", default=None)
    p.set_defaults(func=cmd_store)

    p = sub.add_parser("bench", help="性能基准（页面查询、发布、并发会话内存）")
    p.add_argument("--scale", choices=["county", "province", "nation"], default="province")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.add_argument("--browser", action="store_true", help="另测浏览器中的页面（metrics.bench_browser）")
    p.add_argument("--ingest", action="store_true", help="另测上传导入（metrics.ingest.bench）")
    p.set_defaults(func=cmd_bench)
