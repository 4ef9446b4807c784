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
