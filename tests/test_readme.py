"""The README cannot rot: its commands exist, and its CLI examples run."""

import re
import shlex

from metrics.cli import build_parser
from tests.conftest import REPO, run_cli

README = (REPO / "README.md").read_text(encoding="utf-8")
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")


def test_the_two_commands_are_make_targets_and_ci_calls_the_test_one():
    for target in ("run", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", MAKEFILE, re.M)
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_every_cli_example_in_the_readme_parses_and_the_status_ones_run(demo_dir):
    examples = re.findall(r"^python -m metrics ([^#\n]+)", README, re.M)
    assert len(examples) >= 5
    parser = build_parser()
    for example in examples:
        args = shlex.split(example)
        parser.parse_args(args)                       # raises SystemExit on an undocumented flag
        if args[0] in ("status", "catalog", "snapshots"):
            out = run_cli(*args, data_dir=demo_dir)
            assert out.returncode == 0, (example, out.stderr)
