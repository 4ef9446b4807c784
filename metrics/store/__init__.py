"""The store: Delta Lake fact and event logs, incremental rollup shards, reads as of any time.

``from metrics.store import Store, StoreError, Snapshot`` — see ``core.py`` for the layout.
"""

from metrics.store.core import Store
from metrics.store.log import Event
from metrics.store.view import Snapshot, StoreError, StoreView

__all__ = ["Event", "Snapshot", "Store", "StoreError", "StoreView"]
