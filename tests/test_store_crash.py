"""Kill a publisher at random points: old state or new, never a mix, no debris after the next
start. Concurrent publishers are serialised with nothing lost; readers never see a torn state."""

import contextlib
import multiprocessing as mp
import os
import random
import signal
import sys
import time
import types

import pytest

from metrics.store import upgrade
from tests import store_workers as w

SUM_Q2 = sum(v for (r, e, p), v in w.BASE.items() if e == "toilets_built" and p == "2024Q2")


@pytest.fixture
def ctx(monkeypatch):
    # AppTest runs page scripts as ``__main__`` in this process and may leave one there; a
    # worker must not re-run it (multiprocessing re-imports the parent's main module in a child)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["tests.store_workers"])
    return context


def scale_of(store) -> float | None:
    active = [s for s in store.snapshots() if not s.retracted]
    return float(active[-1].comment.split()[1]) if active else None


def assert_consistent(store):
    """Every read agrees with the newest visible snapshot: upper rollups and leaf facts alike."""
    scale = scale_of(store)
    assert w.root_total(store) == pytest.approx(SUM_Q2 * scale)
    keys = w.pd.DataFrame(list(w.BASE), columns=["region_code", "element_code", "period"])
    got = store.current_values(keys)
    assert got["value"].tolist() == pytest.approx([w.BASE[k] * scale for k in zip(
        got["region_code"], got["element_code"], got["period"])])
    return scale


def no_debris(data_dir, store):
    assert upgrade.debris(store) == []
    leftovers = [os.path.join(d, f) for d, _, files in os.walk(data_dir) for f in files
                 if ".tmp" in f or f.endswith(".wal")]
    assert leftovers == []


def test_sigkill_at_random_points_of_a_publish(tmp_path, ctx):
    w.publish_scaled(tmp_path, 1.0)
    t0 = time.monotonic()
    p = ctx.Process(target=w.publish_scaled, args=(tmp_path, 2.0))
    p.start()
    p.join()
    duration = time.monotonic() - t0
    rng = random.Random(9)
    outcomes = {"old": 0, "new": 0}
    for i in range(50):
        before = scale_of(w.open_store(tmp_path, recover=False))
        scale = 3.0 + i
        p = ctx.Process(target=w.publish_scaled, args=(tmp_path, scale))
        p.start()
        time.sleep(rng.uniform(0.0, duration * 1.1))
        with contextlib.suppress(ProcessLookupError):     # it may have finished first
            os.kill(p.pid, signal.SIGKILL)
        p.join()
        seen = assert_consistent(w.open_store(tmp_path, recover=False))     # before any tidying
        assert seen in (before, scale)
        store = w.open_store(tmp_path)                                         # the next start
        after = assert_consistent(store)
        assert after in (before, scale) and after == (scale if after != before else before)
        outcomes["new" if after == scale else "old"] += 1
        no_debris(tmp_path, store)
    assert outcomes["old"] and outcomes["new"], outcomes      # the kills landed on both sides


def test_two_concurrent_publishers_lose_nothing(tmp_path, ctx):
    w.publish_scaled(tmp_path, 1.0)
    procs = [ctx.Process(target=w.publish_many, args=(tmp_path, scales)) for scales in ([2.0, 3.0, 4.0],
                                                                                        [5.0, 6.0, 7.0])]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert all(p.exitcode == 0 for p in procs)
    store = w.open_store(tmp_path)
    snaps = store.snapshots()
    assert [s.id for s in snaps] == list(range(1, 8))
    assert sorted(float(s.comment.split()[1]) for s in snaps) == [1.0, 2, 3, 4, 5, 6, 7]
    assert [e.seq for e in store.events()] == list(range(1, 8))
    assert_consistent(store)
    assert len(store.log.facts_dataset().to_table()) == 7 * len(w.BASE)


def test_a_reader_never_sees_a_torn_state_while_publishing(tmp_path, ctx):
    w.publish_scaled(tmp_path, 1.0)
    queue = ctx.Queue()
    reader = ctx.Process(target=w.read_loop, args=(tmp_path, 12.0, queue))
    reader.start()
    for scale in (2.0, 3.0, 4.0):
        w.publish_scaled(tmp_path, scale)
    seen, errors = queue.get(timeout=120)
    reader.join()
    assert errors == []
    assert len(seen) > 10
    for total, comment in seen:
        assert total == pytest.approx(SUM_Q2 * float(comment.split()[1]))
