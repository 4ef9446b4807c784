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
