"""The sidebar control every leadership page draws: view the data as of a snapshot or a date.

``st_as_of_control(store, lang)`` returns ``store.at(snapshot=…)`` / ``store.at(when=…)`` when the
reader picked a past state, else ``store`` itself. Wired into pages/common.py by the lead.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from metrics.i18n import tr


def st_as_of_control(store, lang: str):
    """Latest, a snapshot, or a date — the returned store answers every query as of that state."""
    if not hasattr(store, "at"):
        return store
    snaps = [s for s in store.snapshots()]
    if not snaps:
        return store
    sb = st.sidebar
    modes = ["latest", "snapshot", "date"]
    mode = sb.radio(tr("asof", lang), modes, horizontal=True, key="asof_mode",
                    format_func=lambda m: tr(f"asof_{m}", lang))
    if mode == "snapshot":
        ids = [s.id for s in sorted(snaps, key=lambda s: s.id, reverse=True)]
        by_id = {s.id: s for s in snaps}
        sid = sb.selectbox(tr("pick_snapshot", lang), ids, key="asof_snapshot",
                           format_func=lambda i: f"#{i} · {by_id[i].created_at[:16]} · {by_id[i].source_name}")
        sb.caption(tr("asof_banner", lang, what=f"#{sid}"))
        return store.at(snapshot=int(sid))
    if mode == "date":
        first = min(dt.date.fromisoformat(s.created_at[:10]) for s in snaps)
        day = sb.date_input(tr("asof_date", lang), value=dt.date.today(), min_value=first, key="asof_date")
        sb.caption(tr("asof_banner", lang, what=day.isoformat()))
        return store.at(when=dt.datetime.combine(day, dt.time.max))
    return store
