"""``python -m metrics users …`` and ``audit`` (registered by metrics.cli).

Passwords are asked twice on a terminal (never echoed, never an argument: arguments show in
``ps`` and shell history); from a pipe the first line of standard input is the password;
``--random`` makes one and prints it once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from metrics.auth import ROLES, PermissionDenied, cli_user, text


def _msg(key: str, **kw) -> str:
    return text.TEXT[f"auth_{key}"][0].format(**kw)


def _read_password(args) -> str | None:
    if getattr(args, "random", False):
        from metrics.auth.accounts import random_password
        password = random_password()
        print(_msg("cli_random_password", password=password))
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_msg("cli_password_prompt"))
    if getpass.getpass(_msg("cli_password_again")) != first:
        print(_msg("cli_password_mismatch"), file=sys.stderr)
        return None
    return first


def _run(args, action) -> int:
    from metrics.auth.accounts import AccountError, Accounts
    try:
        return action(Accounts(args.data_dir), cli_user(args.user))
    except AccountError as exc:
        print(text.account_error(exc, "zh"), file=sys.stderr)
        return 1
    except PermissionDenied as exc:
        print(str(exc), file=sys.stderr)
        return 1


def cmd_users_add(args) -> int:
    def action(acc, actor):
        password = _read_password(args)
        if password is None:
            return 1
        a = acc.add(actor, args.name, args.role, password, email=args.email)
        print(_msg("cli_added", name=a.name, role=a.role))
        return 0
    return _run(args, action)


def cmd_users_passwd(args) -> int:
    def action(acc, actor):
        if acc.get(args.name) is None:   # ask for no password for a name that does not exist
            print(_msg("err_unknown_user", name=args.name), file=sys.stderr)
            return 1
        password = _read_password(args)
        if password is None:
            return 1
        a = acc.set_password(actor, args.name, password)
        print(_msg("cli_passwd", name=a.name))
        return 0
    return _run(args, action)


def cmd_users_simple(args) -> int:
    def action(acc, actor):
        if args.users_cmd == "disable":
            a = acc.disable(actor, args.name)
        elif args.users_cmd == "enable":
            a = acc.enable(actor, args.name)
        elif args.users_cmd == "role":
            a = acc.set_role(actor, args.name, args.role)
        else:
            a = acc.set_email(actor, args.name, args.email or None)
        print(_msg("cli_changed", name=a.name, role=a.role,
                   state=_msg("state_disabled") if a.disabled else _msg("state_active")))
        return 0
    return _run(args, action)


def cmd_users_list(args) -> int:
    from metrics.auth.accounts import Accounts
    accounts = Accounts(args.data_dir).list()
    if args.json:
        json.dump([a.__dict__ for a in accounts], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for a in accounts:
        state = _msg("state_disabled") if a.disabled else _msg("state_active")
        print(f"{a.name:20} {a.role:8} {state:4} {a.email or '':30} {a.last_login_at or ''}")
    print(_msg("cli_count", n=len(accounts)))
    return 0


def cmd_audit(args) -> int:
    from metrics import paths
    from metrics.auth import audit
    entries = audit.filter_entries(audit.read(paths.data_dir(args.data_dir)),
                                   user=args.filter_user, actions=args.action or None)
    if args.csv:
        sys.stdout.buffer.write(audit.to_csv(entries))
        return 0
    for e in entries:
        print(json.dumps(e, ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the parser (each sets ``func=cmd_…``)."""
    users = sub.add_parser("users", help="账户管理（添加、改密码、列表、停用）")
    us = users.add_subparsers(dest="users_cmd", required=True)

    def common(p, name=True):
        if name:
            p.add_argument("name")
        p.add_argument("--user", default=None, help="记入审计日志的操作者（默认 cli:<系统用户>）")
        return p

    p = common(us.add_parser("add", help="添加账户（密码从终端输入两次，或管道第一行，或 --random）"))
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--email", default=None, help="单点登录（SSO）使用的电子邮箱")
    p.add_argument("--random", action="store_true", help="生成随机密码并显示一次")
    p.set_defaults(func=cmd_users_add)

    p = common(us.add_parser("passwd", help="重设密码"))
    p.add_argument("--random", action="store_true", help="生成随机密码并显示一次")
    p.set_defaults(func=cmd_users_passwd)

    p = common(us.add_parser("list", help="列出账户"), name=False)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users_list)

    common(us.add_parser("disable", help="停用账户")).set_defaults(func=cmd_users_simple)
    common(us.add_parser("enable", help="重新启用账户")).set_defaults(func=cmd_users_simple)
    p = common(us.add_parser("role", help="更改角色"))
    p.add_argument("role", choices=ROLES)
    p.set_defaults(func=cmd_users_simple)
    p = common(us.add_parser("email", help="设置单点登录邮箱（空字符串清除）"))
    p.add_argument("email")
    p.set_defaults(func=cmd_users_simple)

    p = sub.add_parser("audit", help="审计日志（--csv 导出）")
    p.add_argument("--user", dest="filter_user", default=None, help="只看该用户")
    p.add_argument("--action", action="append", help="只看该操作（可重复）")
    p.add_argument("--csv", action="store_true")
    p.set_defaults(func=cmd_audit)
