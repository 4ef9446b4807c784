import subprocess
import sys
from pathlib import Path

import pytest

from metrics.store import Store

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The demo data set, built once per test session through the real CLI."""
    d = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, "-m", "metrics", "--data-dir", str(d), "demo"], cwd=REPO, check=True,
                   capture_output=True)
    return d


@pytest.fixture(scope="session")
def demo_store(demo_dir) -> Store:
    return Store(demo_dir)


def run_cli(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "metrics"] + (["--data-dir", str(data_dir)] if data_dir else []) + list(args)
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


_EXIT = {}


def pytest_sessionfinish(session, exitstatus):
    _EXIT["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The test process has read Delta tables; its teardown may abort (metrics/process.py), which
    would turn a green run red. Once every report is written, leave with pytest's own exit status.
    xdist workers are left alone: their controller has their results by now."""
    if "status" in _EXIT and not hasattr(config, "workerinput"):
        from metrics.process import leave
        leave(_EXIT["status"])
