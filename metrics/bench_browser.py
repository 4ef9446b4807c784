"""``python -m metrics bench --browser``: first render and click times in Chromium (Playwright).

Owned by the leadership-pages work; ``metrics.bench`` calls ``run``.
"""

from __future__ import annotations


def run(repeats: int = 3) -> dict:
    raise NotImplementedError("browser bench not built yet")
