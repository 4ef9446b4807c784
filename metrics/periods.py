"""Quarters: ``YYYYQn`` strings and their arithmetic.

Internally a quarter is an integer index ``year * 4 + (q - 1)`` so that differences
are numbers of quarters.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")
# Chinese spellings analysts type: 2024年第2季度, 2024年二季度, 2024-Q2
_PERIOD_ZH_RE = re.compile(r"^\s*(\d{4})\s*年?\s*[-第]?\s*([1-4一二三四])\s*季度?\s*$")
_ZH_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def parse_period(text: str) -> str:
    """Normalise a quarter to ``YYYYQn``; raise ``ValueError`` if it is not one."""
    s = str(text).strip().replace("-", "")
    m = _PERIOD_RE.match(s) or _PERIOD_ZH_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"not a quarter: {text!r}")
    year, q = int(m.group(1)), _ZH_DIGITS.get(m.group(2), m.group(2))
    if not 1900 <= year <= 2200:
        raise ValueError(f"year out of range: {text!r}")
    return f"{year}Q{q}"


@lru_cache(maxsize=4096)
def to_index(period: str) -> int:
    year, q = int(period[:4]), int(period[5])
    return year * 4 + q - 1


def from_index(index: int) -> str:
    return f"{index // 4}Q{index % 4 + 1}"


@lru_cache(maxsize=8192)
def shift(period: str, quarters: int) -> str:
    return from_index(to_index(period) + quarters)


def year_of(period: str) -> int:
    return int(period[:4])


def quarter_of(period: str) -> int:
    return int(period[5])


def period_range(first: str, last: str) -> list[str]:
    return [from_index(i) for i in range(to_index(first), to_index(last) + 1)]


def quarters_between(a: str, b: str) -> int:
    """Number of quarters from ``a`` to ``b`` (``b - a``)."""
    return to_index(b) - to_index(a)


def last_complete_quarter(today: dt.date | None = None) -> str:
    """The last quarter that has ended on ``today`` (default: the system date)."""
    today = today or dt.date.today()
    current = today.year * 4 + (today.month - 1) // 3
    return from_index(current - 1)


def label_zh(period: str) -> str:
    return f"{period[:4]}年第{'一二三四'[quarter_of(period) - 1]}季度"
