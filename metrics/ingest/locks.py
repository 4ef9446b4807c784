"""Period locks: an admin locks a quarter after its assessment; uploads touching it are refused
with ``period_locked`` until an admin unlocks it. Both are audited.

State: ``<data dir>/locks.json`` (``{"locked": {"2024Q2": {"by", "at"}}}``), replaced atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from metrics import periods
from metrics.auth import User, audit, require

LOCKS_FILE = "locks.json"


def _path(data_dir: Path | str) -> Path:
    return Path(data_dir) / LOCKS_FILE


def _read(data_dir: Path | str) -> dict:
    try:
        return json.loads(_path(data_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"locked": {}}


def _write(data_dir: Path | str, state: dict) -> None:
    path = _path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def locked_periods(data_dir: Path | str) -> frozenset[str]:
    return frozenset(_read(data_dir)["locked"])


def lock(data_dir: Path | str, period: str, user: User) -> str:
    """Lock a quarter (admin). Returns the normalised quarter."""
    require(user, "admin")
    period = periods.parse_period(period)
    state = _read(data_dir)
    state["locked"][period] = {"by": user.name, "at": dt.datetime.now().isoformat(timespec="seconds")}
    _write(data_dir, state)
    audit.record(data_dir, user, "lock_period", period=period)
    return period


def unlock(data_dir: Path | str, period: str, user: User) -> str:
    require(user, "admin")
    period = periods.parse_period(period)
    state = _read(data_dir)
    state["locked"].pop(period, None)
    _write(data_dir, state)
    audit.record(data_dir, user, "unlock_period", period=period)
    return period
