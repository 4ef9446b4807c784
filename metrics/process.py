"""Process life: settling after start-up, leaving a process that has used the Delta Lake binding.

A serving process imports a lot and loads the region hierarchy once; a page call then allocates
thousands of short-lived containers (statuses, series), enough to trigger a full collection of the
cycle collector every few calls, and a full collection walks every object alive — ~25 ms at county
scale on this machine, more with a larger hierarchy: that was the p95 of a page call. The app and
the bench call :func:`settle` once their start-up objects exist, so that later collections only
walk what was made since.


About one run in twenty of a process that read a Delta table through pyarrow aborts in the
interpreter's teardown ("terminate called without an active exception", SIGABRT) after its work
is done: threads of the binding are still alive when static destructors run. Measured here:
2 of 30 runs of a three-line read. A finished command, bench child or test session must not
turn into a crash exit code, so they leave through :func:`leave` once everything is flushed.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import os
import sys

_settled = False
GEN0_THRESHOLD = 100_000


def settle(store=None) -> None:
    """Once start-up is done (modules imported, ``store``'s hierarchy, layout and catalog loaded):
    collect, then keep every object alive now out of later collections (``gc.freeze``; they are
    still freed by reference counting when dropped). Otherwise every full collection walks them
    again: page-call p95 was ~2× the median (province: 117 vs 68 ms; frozen: 60 vs 58 ms).
    Once per process: later calls do nothing."""
    global _settled
    if _settled:
        return
    if store is not None:
        with contextlib.suppress(OSError, ValueError):    # no regions yet: nothing to load
            store.hierarchy, store.layout, store.catalog   # noqa: B018 - built now, before the freeze
    _settled = True
    tune_allocator()
    gc.collect()
    gc.freeze()
    # A page call at the top of the nation allocates ~7·10⁴ containers (68,932 measured: 4,100
    # statuses, their assessments and series) that live until it returns and hold no cycles
    # (reference counting frees them). At the default threshold (700) the collector ran ~100 times inside one call,
    # walking what the call had built so far (A/B, 20 calls each: 33.2 / 38.5 ms median / p95 with
    # the default, 27.4 / 32.0 with the collector off).
    # Cyclic garbage of other code now waits for 10⁵ allocations — a few MB at most.
    gc.set_threshold(GEN0_THRESHOLD, *gc.get_threshold()[1:])
    atexit.register(gc.unfreeze)    # a normal exit still frees them (bindings report leaks otherwise)


# glibc's mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HEAP_BLOCKS = 1 << 30


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:      # not glibc: nothing to tune
        return None


def tune_allocator() -> bool:
    """Let glibc serve large blocks from the heap and keep freed memory for reuse (up to 1 GiB).

    By default every array over ~32 MB is a fresh ``mmap``, returned at ``free``, and each of its
    pages faults when first written. An upload of 2.3·10⁶ rows makes and drops dozens of arrays of
    18–37 MB; on this VM the page faults were half of its validation (first validation in a
    process: 2.8–3.8 s by default, 1.4–1.6 s tuned; the same process's second one: 1.4–1.7 s
    either way). Memory kept is given back by :func:`release_memory` once a big job is done.
    Returns whether it applied (glibc only)."""
    libc = _libc()
    return bool(libc and libc.mallopt(_M_MMAP_THRESHOLD, _HEAP_BLOCKS) and libc.mallopt(_M_TRIM_THRESHOLD, _HEAP_BLOCKS))


def release_memory() -> None:
    """Give the freed memory of a big job (an upload validated or published) back to the system:
    glibc's heap and Arrow's memory pool."""
    import pyarrow as pa
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
    pa.default_memory_pool().release_unused()


def leave(rc: int | None = 0) -> None:
    """Flush stdout/stderr and end the process now with ``rc``, skipping the interpreter's teardown.
    Call it only when every file the process wrote is closed (our writes fsync before returning)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # closed or broken pipe: nothing left to say
            pass
    os._exit(int(rc or 0))
