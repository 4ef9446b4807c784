from metrics.process import leave, tune_allocator

tune_allocator()      # before the work: large arrays reused, not faulted in again (metrics/process.py)

from metrics.cli import main  # noqa: E402

# Everything is committed and fsynced by now; leave without the interpreter's teardown
# (see metrics/process.py: the Delta Lake binding sometimes aborts it).
leave(main())
