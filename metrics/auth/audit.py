"""The audit log: who did what, when — append-only JSON lines in ``<data dir>/audit.jsonl``.

``record(data_dir, user, action, **detail)`` is called by every privileged core function
(publish, retract, restore, targets, users, period locks, logins). Never holds a password.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path

AUDIT_FILE = "audit.jsonl"


def record(data_dir: Path | str, user, action: str, **detail) -> None:
    """Append one entry (flock-serialised, fsynced)."""
    path = Path(data_dir) / AUDIT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
             "user": getattr(user, "name", user), "role": getattr(user, "role", None),
             "action": action, **detail}
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read(data_dir: Path | str) -> list[dict]:
    """Every entry, oldest first. A line that is not valid JSON (a torn write after a crash)
    is kept as an entry with action ``unreadable`` rather than hidden or fatal."""
    path = Path(data_dir) / AUDIT_FILE
    try:
        raw = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    out = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError
        except ValueError:
            entry = {"at": None, "user": None, "role": None, "action": "unreadable", "line": n}
        out.append(entry)
    return out


def filter_entries(entries: list[dict], *, user: str | None = None, actions: list[str] | None = None,
                   since: dt.date | None = None, until: dt.date | None = None,
                   text: str | None = None) -> list[dict]:
    """Entries matching every given filter: user (exact), action in ``actions``, date range
    (inclusive, by the entry's local date) and ``text`` anywhere in the entry."""
    needle = (text or "").strip().casefold()
    out = []
    for e in entries:
        if user and e.get("user") != user:
            continue
        if actions and e.get("action") not in actions:
            continue
        day = (e.get("at") or "")[:10]
        if since and (not day or day < since.isoformat()):
            continue
        if until and (not day or day > until.isoformat()):
            continue
        if needle and needle not in json.dumps(e, ensure_ascii=False).casefold():
            continue
        out.append(e)
    return out


def detail_text(entry: dict) -> str:
    """The entry's details (everything but at/user/role/action) as ``key=value`` pairs."""
    skip = {"at", "user", "role", "action"}
    return "  ".join(f"{k}={v}" for k, v in entry.items() if k not in skip and v is not None)


def to_csv(entries: list[dict]) -> bytes:
    """UTF-8 CSV with a BOM (Excel opens it in Chinese); cells starting with = + - @ are
    prefixed with a quote (formula injection: user names and comments come from users)."""
    import csv
    import io

    def safe(v: object) -> str:
        s = "" if v is None else str(v)
        return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["at", "user", "role", "action", "detail"])
    for e in entries:
        w.writerow([safe(e.get("at")), safe(e.get("user")), safe(e.get("role")),
                    safe(e.get("action")), safe(detail_text(e))])
    return buf.getvalue().encode("utf-8-sig")
