"""Functions the crash and concurrency tests run in other processes (forkserver children)."""

import time

import pandas as pd

from metrics.auth import User
from metrics.regions import parse_regions_csv
from metrics.store import Store

REGIONS = """code,name,level,parent
990000000000,测试县,county,
990000100000,甲镇,township,990000000000
990000100201,甲一村,village,990000100000
990000100202,甲二村,village,990000100000
990000200000,乙镇,township,990000000000
990000200201,乙一村,village,990000200000
"""
ROOT = "990000000000"
VILLAGES = ["990000100201", "990000100202", "990000200201"]
ELEMENTS = ["toilets_built", "population", "road_km_total", "road_km_good"]
PERIODS = ["2024Q1", "2024Q2"]
BASE = {(v, e, p): float(1 + i + 10 * j + 100 * k) for i, v in enumerate(VILLAGES)
        for j, e in enumerate(ELEMENTS) for k, p in enumerate(PERIODS)}
ANALYST = User("测试", "analyst")


def open_store(data_dir, recover=True) -> Store:
    return Store(data_dir, hierarchy=parse_regions_csv(REGIONS), recover=recover)


def publish_scaled(data_dir, scale: float) -> int:
    """Publish every key with BASE × scale; the comment records the scale."""
    frame = pd.DataFrame([(*k, v * scale) for k, v in BASE.items()],
                         columns=["region_code", "element_code", "period", "value"])
    snap = open_store(data_dir).publish(frame, user=ANALYST, comment=f"scale {scale}",
                                        source_name="x.csv", source_sha256="0")
    return snap.id


def publish_many(data_dir, scales) -> None:
    for s in scales:
        publish_scaled(data_dir, s)


def root_total(store, element="toilets_built", period="2024Q2") -> float | None:
    rows = store.rollup_rows([ROOT], [element], period, period)
    return None if rows.empty else float(rows["value_sum"].iloc[0])


def read_loop(data_dir, seconds: float, out) -> None:
    """Read the root total over and over (one long-lived reader, like the app) and report them."""
    store = open_store(data_dir, recover=False)
    seen, errors, end = [], [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            view = store.at()       # one consistent state: the manifest and events read together
            seen.append((root_total(view), view.snapshots()[-1].comment))
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(repr(exc))
    out.put((seen, errors))
