"""Failed sign-ins per user name: after ``login_max_failures`` failures within
``login_window_minutes`` the name is refused until the oldest failure leaves the window.

Kept in ``<data dir>/login_failures.json`` (mode 0600, flock-serialised), so a new browser
session, another app replica on the same data directory or a restart does not reset it.
Unknown names are counted like known ones: the lock-out says nothing about who exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

from metrics import paths

FAILURES_FILE = "login_failures.json"
MAX_NAMES = 10_000   # a flood of made-up names cannot grow the file without bound


def _window(data_dir: Path) -> tuple[int, float]:
    s = paths.settings(data_dir)
    return int(s["login_max_failures"]), float(s["login_window_minutes"]) * 60.0


@contextlib.contextmanager
def _failures(data_dir: Path | str, write: bool, now: float | None = None):
    """Yield {name: [failure times]} (pruned to the window); written back when ``write``."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FAILURES_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as fh:
            try:
                data = json.loads(fh.read() or "{}")
            except ValueError:
                data = {}
            _, window = _window(data_dir)
            cutoff = (time.time() if now is None else now) - window
            data = {k: [t for t in v if t > cutoff] for k, v in data.items()}
            data = {k: v for k, v in data.items() if v}
            yield data
            if write:
                if len(data) > MAX_NAMES:
                    keep = sorted(data, key=lambda k: data[k][-1])[-MAX_NAMES:]
                    data = {k: data[k] for k in keep}
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps(data))
                fh.flush()
                os.fsync(fh.fileno())
    finally:
        os.close(fd)


def locked_for(data_dir: Path | str, name: str, now: float | None = None) -> int:
    """Seconds until ``name`` may try again (0: it may now)."""
    limit, window = _window(Path(data_dir))
    now = time.time() if now is None else now
    with _failures(data_dir, write=False, now=now) as data:
        times = sorted(data.get(name, []))
    if len(times) < limit:
        return 0
    return max(1, int(times[-limit] + window - now) + 1)


def record_failure(data_dir: Path | str, name: str) -> None:
    with _failures(data_dir, write=True) as data:
        data.setdefault(name, []).append(time.time())


def reset(data_dir: Path | str, name: str) -> None:
    with _failures(data_dir, write=True) as data:
        data.pop(name, None)


def failures(data_dir: Path | str, name: str) -> int:
    with _failures(data_dir, write=False) as data:
        return len(data.get(name, []))
