"""``python -m metrics`` subcommands of metrics.export (registered by metrics.cli)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the parser (each sets ``func=cmd_…``)."""
