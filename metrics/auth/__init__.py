"""Access control: users, roles, the acting user every privileged core function takes.

Roles are ordered: viewer < analyst < admin. Every privileged core function (publish,
retract, restore, targets, users, period locks) takes the acting ``User`` and calls
``require(user, role)`` first — defence in depth behind the pages' own checks.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

ROLES = ("viewer", "analyst", "admin")


class PermissionDenied(PermissionError):
    """The acting user's role may not do this."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def require(user: User | None, role: str) -> User:
    """Refuse (PermissionDenied) unless ``user`` holds ``role`` or a higher one."""
    if user is None or not isinstance(user, User) or user.role not in ROLES or not user.can(role):
        who = getattr(user, "name", None) or "匿名用户"
        raise PermissionDenied(f"{who} 无权执行此操作（需要 {role} 角色）")
    return user


def cli_user(name: str | None = None) -> User:
    """The command line's acting user: whoever can run it can write the data directory anyway,
    so it acts as an admin, named after the operating-system account (or ``--user``)."""
    try:
        os_name = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        os_name = "cli"
    return User(name=name or f"cli:{os_name}", role="admin")


SYSTEM = User("system", "admin")   # the demo generator and upgrades
