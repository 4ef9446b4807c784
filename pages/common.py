"""Shared Streamlit helpers for the pages: the store, cached core calls, the sidebar filters.

Drawing helpers start with ``st_``. Everything computed comes from ``metrics``; this module
only caches it (keyed by the store's version, so a publish invalidates it) and draws.
"""

from __future__ import annotations

import html
import io
import runpy
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from metrics import i18n, paths, periods, query
from metrics.catalog import Plan
from metrics.i18n import tr
from metrics.store import Store


@st.cache_resource(show_spinner=False)
def get_store(data_dir: str) -> Store:
    return Store(data_dir)


def store() -> Store:
    return get_store(str(paths.data_dir()))


@st.cache_data(show_spinner=False, max_entries=256)
def cached_assess_region(data_dir: str, version: int, region: str, period: str, plan_id: str):
    return query.assess_region(get_store(data_dir), region, period, plan_id)[2]


@st.cache_data(show_spinner=False, max_entries=256)
def cached_assess_overview(data_dir: str, version: int, region: str, period: str, plan_id: str):
    s = get_store(data_dir)
    return query.assess_overview(s, region, period, s.catalog.plans[plan_id])


@st.cache_data(show_spinner=False, max_entries=256)
def cached_assess_subregions(data_dir: str, version: int, region: str, period: str, plan_id: str):
    s = get_store(data_dir)
    return query.assess_subregions(s, region, period, s.catalog.plans[plan_id])


@st.cache_data(show_spinner=False, max_entries=256)
def cached_assess_children(data_dir: str, version: int, region: str, period: str, plan_id: str, indicator: str):
    s = get_store(data_dir)
    return query.assess_children(s, region, period, s.catalog.plans[plan_id], indicator)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_periods(data_dir: str, version: int) -> list[str]:
    return get_store(data_dir).periods_with_data()


def page_filters() -> Filters:
    """The filters app.py drew for this run.

    A page opened before any session ran ``st.navigation`` is routed by Streamlit's ``pages/``
    directory convention straight to the page file: then run the app (which draws the
    sidebar and runs this page through the navigation) and stop this outer run.
    """
    if st.session_state.pop("_app_entry", False):
        return st.session_state["filters"]
    runpy.run_path(str(paths.REPO_DIR / "app.py"), run_name="__main__")
    st.stop()


@dataclass
class Filters:
    lang: str
    region: str
    period: str | None
    plan: Plan | None
    version: int
    data_dir: str

    @property
    def store(self) -> Store:
        return get_store(self.data_dir)


def _init_state(s: Store) -> None:
    """First run of a session: take the selection from the URL (bookmarks, shared links)."""
    if st.session_state.get("_initialised"):
        return
    qp = st.query_params
    st.session_state["lang_widget"] = "English" if qp.get("lang") == "en" else "中文"
    st.session_state["_lang_seen"] = lang()
    if qp.get("plan") in s.catalog.plans:
        st.session_state[wkey("plan")] = qp.get("plan")
    if qp.get("period"):
        st.session_state[wkey("period")] = qp.get("period")
    if qp.get("indicator") in s.catalog.indicators:
        st.session_state[wkey("indicator")] = qp.get("indicator")
    if qp.get("region"):
        st.session_state["goto_region"] = qp.get("region")
    st.session_state["_initialised"] = True


def wkey(name: str) -> str:
    """Widget key per language: a selectbox's option labels are fixed by its key, so a
    language switch draws new widgets, seeded from the old ones by ``_carry_over_language``."""
    return f"{name}_{lang()}"


def _carry_over_language() -> None:
    old, new = st.session_state.get("_lang_seen"), lang()
    if old is None or old == new:
        st.session_state["_lang_seen"] = new
        return
    for name in ("plan", "period", "indicator"):
        if f"{name}_{old}" in st.session_state:
            st.session_state[f"{name}_{new}"] = st.session_state[f"{name}_{old}"]
    if st.session_state.get("region"):
        goto_region(st.session_state["region"])
    st.session_state["_lang_seen"] = new


def goto_region(code: str) -> None:
    """Ask the sidebar to show ``code`` on its next run (click-through from another page)."""
    st.session_state["goto_region"] = code


def _apply_goto_region(s: Store) -> None:
    code = st.session_state.pop("goto_region", None)
    if code is None or code not in s.hierarchy:
        return
    path = s.hierarchy.path(code)
    for parent, child in zip(path, path[1:]):
        st.session_state[wkey(f"region_{parent.code}")] = child.code
    if s.hierarchy.children(code):
        st.session_state[wkey(f"region_{code}")] = ""


def lang() -> str:
    return "en" if st.session_state.get("lang_widget") == "English" else "zh"


def st_sidebar_filters() -> Filters:
    """Language, region (cascading), plan, quarter — kept in session state and in the URL.

    Widgets are keyed and never given an ``index`` after the first run: their state is the
    selection. The URL and click-throughs write the widget keys before the widgets are drawn.
    """
    s = store()
    _init_state(s)
    sb = st.sidebar
    sb.radio(tr("language", lang()), ["中文", "English"], horizontal=True, key="lang_widget")
    lg = lang()
    _carry_over_language()
    _apply_goto_region(s)
    version = s.version()
    data_dir = str(s.dir)

    region = st_region_picker(s, lg)
    plans = list(s.catalog.plans.values())
    available = cached_periods(data_dir, version)
    if st.session_state.get(wkey("plan")) not in s.catalog.plans:
        default_plan, _ = query.resolve_plan(s, None, st.session_state.get(wkey("period")))
        st.session_state[wkey("plan")] = default_plan.id if default_plan else plans[0].id
    plan_id = sb.selectbox(tr("plan", lg), [p.id for p in plans], key=wkey("plan"),
                           format_func=lambda pid: i18n.name(s.catalog.plans[pid], lg))
    plan = s.catalog.plans[plan_id]
    choices = list(reversed([p for p in available if p >= plan.start]))
    period = None
    if choices:
        plan_changed = st.session_state.get("_plan_seen") not in (None, plan_id)
        if st.session_state.get(wkey("period")) not in choices or plan_changed:
            inside = [p for p in choices if plan.covers(p)]
            st.session_state[wkey("period")] = (inside or choices)[0]
        period = sb.selectbox(tr("quarter", lg), choices, key=wkey("period"),
                              format_func=lambda p: p if lg == "en" else periods.label_zh(p))
    st.session_state.update(region=region, period=period, plan=plan_id, _plan_seen=plan_id)
    sync_url()
    return Filters(lg, region, period, plan, version, data_dir)


def st_region_picker(s: Store, lg: str) -> str:
    """Cascading selectboxes: top region, then any level below it; any level may be chosen."""
    h = s.hierarchy
    st.sidebar.markdown(f"**{tr('region', lg)}**{i18n.colon(lg)}{i18n.region_name(h.root, lg)}")
    current = h.root.code
    while h.children(current):
        kids = h.children(current)
        options = [""] + [k.code for k in kids]
        key = wkey(f"region_{current}")
        if st.session_state.get(key) not in options:
            st.session_state[key] = ""
        picked = st.sidebar.selectbox(
            i18n.level_name(kids[0].level, lg), options, key=key,
            format_func=lambda c: tr("whole", lg) if c == "" else i18n.region_name(h[c], lg))
        if not picked:
            break
        current = picked
    return current


def sync_url(**extra: str) -> None:
    state = st.session_state
    params = {"lang": lang(), "region": state.get("region"), "period": state.get("period"),
              "plan": state.get("plan"), "indicator": state.get("indicator"), **extra}
    clean = {k: v for k, v in params.items() if v}
    if dict(st.query_params) != clean:
        st.query_params.from_dict(clean)


def st_header(f: Filters, title_key: str) -> None:
    s = f.store
    region = s.hierarchy[f.region]
    st.title(tr(title_key, f.lang))
    parts = [i18n.region_name(region, f.lang)]
    if f.period:
        parts.append(f.period if f.lang == "en" else periods.label_zh(f.period))
    if f.plan:
        parts.append(i18n.name(f.plan, f.lang))
    st.caption(" · ".join(parts))
    if any(sn.demo for sn in s.snapshots() if not sn.retracted):
        st.warning(tr("demo_banner", f.lang), icon=":material/science:")
    if f.plan is not None and f.plan.illustrative:
        st.info(tr("illustrative_plan", f.lang))


def ready(f: Filters) -> bool:
    """Show a clear message (never a crash) when there is nothing to show."""
    if f.store.is_empty():
        st.info(tr("no_data_yet", f.lang))
        return False
    if f.plan is None or f.period is None:
        st.info(tr("no_plan", f.lang))
        return False
    return True


def fmt(value: float | None, decimals: int = 1) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


def fmt_delta(value: float | None, decimals: int = 1) -> str:
    return "—" if value is None else f"{value:+,.{decimals}f}"


def status_badge(status: str, lg: str) -> str:
    colour = i18n.status_colour(status)
    return (f'<span class="rr-badge" style="border-color:{colour};color:#111;'
            f'background:{colour}22">{html.escape(i18n.status_label(status, lg))}</span>')


def progress_bar_html(value: float | None, expected: float | None, target: float | None,
                      baseline: float | None, status: str) -> str:
    """Bar from baseline to target: filled to the value, a tick at the expected value."""
    if value is None or target is None:
        return ""
    lo = baseline if baseline is not None and baseline != target else 0.0
    span = (target - lo) or 1.0
    pos = lambda x: max(0.0, min(100.0, (x - lo) / span * 100))  # noqa: E731
    tick = "" if expected is None else f'<div class="rr-tick" style="left:{pos(expected):.1f}%"></div>'
    return (f'<div class="rr-bar"><div class="rr-fill" style="width:{pos(value):.1f}%;'
            f'background:{i18n.status_colour(status)}"></div>{tick}</div>')


CSS = """
<style>
.rr-badge{display:inline-block;padding:1px 8px;border:1.5px solid;border-radius:10px;font-size:0.85rem;white-space:nowrap}
.rr-bar{position:relative;height:8px;background:#eee;border-radius:4px;margin:8px 0 8px}
.rr-fill{height:8px;border-radius:4px}
.rr-tick{position:absolute;top:-3px;width:2px;height:14px;background:#333}
.rr-value{font-size:1.6rem;font-weight:600;line-height:1.2}
.rr-unit{font-size:0.9rem;color:#555;margin-left:4px}
.rr-small{font-size:0.8rem;color:#555}
.rr-name{font-weight:600;font-size:0.95rem;min-height:2.6em}
</style>
"""


def st_css() -> None:
    st.markdown(CSS, unsafe_allow_html=True)


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Formula injection: text cells starting with = + - @ are prefixed with a quote."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in "=+-@" else v)
    return out


def st_table_downloads(frame: pd.DataFrame, stem: str, lg: str) -> None:
    safe = neutralise(frame)
    c1, c2 = st.columns(2)
    c1.download_button(tr("download_csv", lg), safe.to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"{stem}.csv", mime="text/csv", key=f"csv_{stem}")
    buf = io.BytesIO()
    safe.to_excel(buf, index=False, engine="xlsxwriter")
    c2.download_button(tr("download_xlsx", lg), buf.getvalue(), file_name=f"{stem}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"xlsx_{stem}")
