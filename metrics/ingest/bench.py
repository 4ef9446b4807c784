"""``python -m metrics bench --ingest``: a 10⁶-row long CSV validated and published (seconds, peak RSS).

Owned by the ingest work; ``metrics.bench`` calls ``run``.
"""

from __future__ import annotations


def run(rows: int = 1_000_000) -> dict:
    raise NotImplementedError("ingest bench not built yet")
