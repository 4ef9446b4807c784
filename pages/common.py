"""Shared Streamlit helpers for the pages: the store, cached core calls, the sidebar filters.

Drawing helpers start with ``st_``. Everything computed comes from ``metrics``; this module
only caches it (keyed by the store's version, so a publish invalidates it) and draws.
"""

from __future__ import annotations

import html
import runpy
from dataclasses import dataclass

import streamlit as st

from metrics import i18n, paths, process, query, reasons
from metrics.catalog import Plan
from metrics.i18n import tr
from metrics.ingest import target_store
from metrics.store import Store
from metrics.store.view import StoreView
from pages import asof_ui

# served by this server (a material icon would be fetched from a font host)
FAVICON = str(paths.REPO_DIR / ".streamlit" / "favicon.png")


@st.cache_resource(show_spinner=False)
def get_store(data_dir: str) -> Store:
    store = Store(data_dir)
    process.settle(store)      # start-up objects out of the collector's way (a page call's p95)
    return store


# The assessments are cached as resources, not data: shared read-only between sessions,
# without a pickle round trip on every rerun (pages never mutate them). The store's version
# is part of the key, so a publish invalidates them.


def store() -> Store:
    return get_store(str(paths.data_dir()))


@st.cache_resource(show_spinner=False, max_entries=32)
def _view(data_dir: str, seq: int) -> StoreView:
    return StoreView(get_store(data_dir), seq)


def store_at(data_dir: str, version: int | str) -> Store:
    """The live store, or for an as-of version (``"asof:SEQ"``, from the sidebar's 数据时点
    control) the read-only view of it after that event: every cached call goes through here."""
    if isinstance(version, str) and version.startswith("asof:"):
        return _view(data_dir, int(version.removeprefix("asof:")))
    return get_store(data_dir)


@st.cache_resource(show_spinner=False, max_entries=256)
def cached_assess_region(data_dir: str, version: int, region: str, period: str, plan_id: str):
    return query.assess_region(store_at(data_dir, version), region, period, plan_id)[2]


@st.cache_resource(show_spinner=False, max_entries=256)
def cached_assess_overview(data_dir: str, version: int, region: str, period: str, plan_id: str):
    s = store_at(data_dir, version)
    return query.assess_overview(s, region, period, s.catalog.plans[plan_id])


@st.cache_resource(show_spinner=False, max_entries=256)
def cached_assess_subregions(data_dir: str, version: int, region: str, period: str, plan_id: str):
    s = store_at(data_dir, version)
    return query.assess_subregions(s, region, period, s.catalog.plans[plan_id])


@st.cache_resource(show_spinner=False, max_entries=256)
def cached_assess_children(data_dir: str, version: int, region: str, period: str, plan_id: str, indicator: str):
    s = store_at(data_dir, version)
    return query.assess_children(s, region, period, s.catalog.plans[plan_id], indicator)


_ASSESSMENTS = (cached_assess_region, cached_assess_overview, cached_assess_subregions, cached_assess_children)
_targets_seen: dict[str, tuple] = {}


def drop_assessments_if_targets_changed(data_dir: str) -> bool:
    """Uploaded targets change the assessments without a new store version: when the targets log
    changed since this process last looked (a publish here, in the CLI or on another replica),
    drop the cached assessments so that every open page judges against the new targets."""
    stamp = target_store.stamp(data_dir)
    if _targets_seen.setdefault(data_dir, stamp) == stamp:
        return False
    for fn in _ASSESSMENTS:
        fn.clear()
    _targets_seen[data_dir] = stamp
    return True


@st.cache_data(show_spinner=False, max_entries=64)
def cached_periods(data_dir: str, version: int) -> list[str]:
    return store_at(data_dir, version).periods_with_data()


@st.cache_data(show_spinner=False, max_entries=16)
def cached_has_demo(data_dir: str, version: int) -> bool:
    return any(sn.demo for sn in store_at(data_dir, version).snapshots() if not sn.retracted)


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
        return store_at(self.data_dir, self.version)


def default_plan_id(s: Store) -> str:
    """The configured default plan; never an illustrative one (then the first real plan)."""
    plans = s.catalog.plans
    wanted = str(paths.settings(s.dir)["default_plan"])
    if wanted in plans and not plans[wanted].illustrative:
        return wanted
    real = [p for p in plans.values() if not p.illustrative] or list(plans.values())
    return real[0].id


def _init_state(s: Store) -> None:
    """First run of a session: take the selection from the URL (bookmarks, shared links).

    A parameter that does not resolve is remembered as a notice (shown by ``st_header``)
    and the default takes its place.
    """
    if st.session_state.get("_initialised"):
        return
    qp = st.query_params
    notices = []
    if qp.get("lang") not in (None, "zh", "en"):
        notices.append(("lang", qp.get("lang"), "what_lang"))
    st.session_state["lang_widget"] = "English" if qp.get("lang") == "en" else "中文"
    st.session_state["_lang_seen"] = lang()
    if qp.get("plan") in s.catalog.plans:
        st.session_state[wkey("plan")] = qp.get("plan")
    elif qp.get("plan"):
        notices.append(("plan", qp.get("plan"), "what_plan"))
    if qp.get("period"):
        st.session_state[wkey("period")] = qp.get("period")
        st.session_state["_url_period"] = qp.get("period")
    if qp.get("indicator") in s.catalog.indicators:
        st.session_state[wkey("indicator")] = qp.get("indicator")
    elif qp.get("indicator"):
        notices.append(("indicator", qp.get("indicator"), "what_indicator"))
    if qp.get("region") in s.hierarchy:
        st.session_state["goto_region"] = qp.get("region")
    elif qp.get("region"):
        notices.append(("region", qp.get("region"), "what_region"))
    st.session_state["_url_notices"] = notices
    st.session_state["_initialised"] = True


def st_url_notices(lg: str) -> None:
    """Name each link parameter that did not resolve (once, on the page the link opened)."""
    for param, value, what in st.session_state.pop("_url_notices", []):
        st.warning(tr("unknown_param", lg, param=param, value=value, what=tr(what, lg)),
                   icon=":material/link_off:")


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
    data_dir = str(s.dir)
    drop_assessments_if_targets_changed(data_dir)

    region = st_region_picker(s, lg)
    picks = sb.container()   # plan and quarter, drawn above the as-of control that decides them
    version = asof_ui.st_as_of_control(s, lg).version()
    plans = list(s.catalog.plans.values())
    available = cached_periods(data_dir, version)
    if st.session_state.get(wkey("plan")) not in s.catalog.plans:
        st.session_state[wkey("plan")] = default_plan_id(s)
    plan_id = picks.selectbox(tr("plan", lg), [p.id for p in plans], key=wkey("plan"),
                           format_func=lambda pid: i18n.name(s.catalog.plans[pid], lg))
    plan = s.catalog.plans[plan_id]
    choices = list(reversed([p for p in available if p >= plan.start]))
    period = None
    if choices:
        plan_changed = st.session_state.get("_plan_seen") not in (None, plan_id)
        url_period = st.session_state.pop("_url_period", None)
        if url_period is not None and url_period not in choices:
            st.session_state.setdefault("_url_notices", []).append(("period", url_period, "what_period"))
        if st.session_state.get(wkey("period")) not in choices or plan_changed:
            # the latest quarter with data: after the plan's target year the cards judge the
            # target year and show the latest value beside it
            st.session_state[wkey("period")] = choices[0]
        period = picks.selectbox(tr("quarter", lg), choices, key=wkey("period"),
                              format_func=lambda p: i18n.period_label(p, lg))
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
        parts.append(i18n.period_label(f.period, f.lang))
    if f.plan:
        parts.append(i18n.name(f.plan, f.lang))
    st.caption(" · ".join(parts))
    st_url_notices(f.lang)
    if isinstance(f.version, str):   # an as-of view: say so where the numbers are
        state = st.session_state
        what = (f"#{state.get('asof_snapshot')}" if state.get("asof_mode") == "snapshot"
                else str(state.get("asof_date")))
        st.info(tr("asof_banner", f.lang, what=what), icon=":material/history:")
    if cached_has_demo(f.data_dir, f.version):
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
    return i18n.number(value, decimals)


def fmt_delta(value: float | None, decimals: int = 1) -> str:
    return i18n.number(value, decimals, signed=True)


def reason_text(assessment, lg: str, decimals: int = 1) -> str:
    """The one-line reason beside a status (the method's words)."""
    if assessment.status == "no_target":
        return ""   # the badge says it already
    return reasons.reason_text(assessment, lg, decimals)


def latest_value(row) -> float | None:
    """The value at the selected quarter, on the indicator's basis (the series already is)."""
    return row.current


def status_badge(status: str, lg: str) -> str:
    colour = i18n.status_colour(status)
    return (f'<span class="rr-badge" style="border-color:{colour};'
            f'background:{colour}33">{html.escape(i18n.status_label(status, lg))}</span>')


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
.rr-note{font-size:0.875rem;color:#555b66}
.rr-badge{display:inline-block;padding:1px 8px;border:1.5px solid;border-radius:10px;font-size:0.85rem;white-space:nowrap;color:#111}
.rr-bar{position:relative;height:8px;background:#e6e6e6;border-radius:4px;margin:8px 0 8px}
.rr-fill{height:8px;border-radius:4px}
.rr-tick{position:absolute;top:-3px;width:2px;height:14px;background:#333}
.rr-value{font-size:1.5rem;font-weight:600;line-height:1.2;color:#111}
.rr-unit{font-size:0.9rem;color:#4a4a4a;margin-left:4px}
.rr-small{font-size:0.8rem;color:#4a4a4a}
.rr-reason{font-size:0.8rem;font-weight:400;color:#333;margin-top:2px}
.rr-name{font-weight:600;font-size:0.95rem;min-height:2.6em;color:#111}
.rr-basis{font-weight:400;font-size:0.8rem;color:#4a4a4a}
.rr-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px;margin-bottom:12px}
.rr-card{border:1px solid #d0d3d9;border-radius:8px;padding:10px 12px;background:#fff;color:#111}
.rr-final{font-size:0.8rem;color:#333;background:#f3f4f6;border-radius:4px;padding:1px 6px;display:inline-block}
.rr-progress{white-space:nowrap}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p{color:#4a4f5a}
svg.rr-chart{display:block;height:auto;max-width:100%}
svg.rr-svg-narrow{display:none}
@media (max-width:640px){svg.rr-svg-wide{display:none} svg.rr-svg-narrow{display:block}
  .rr-table{font-size:0.8rem} .rr-table th,.rr-table td{padding:4px 4px}}
.rr-rank{display:grid;grid-template-columns:minmax(4em,max-content) minmax(80px,1fr) max-content;gap:6px 10px;align-items:center;color:#111;font-size:0.9rem}
.rr-rank-track{position:relative;height:20px}
.rr-rank-head{height:1.4em}
.rr-rank-bar{position:absolute;top:2px;height:16px;border-radius:3px}
.rr-rank-target{position:absolute;top:-3px;bottom:-3px;border-left:2px dashed #D55E00}
.rr-rank-label{position:absolute;bottom:2px;padding:0 4px;white-space:nowrap;font-size:0.8rem;color:#A04000}
.rr-rank-value{white-space:nowrap;font-variant-numeric:tabular-nums}
.rr-table-wrap{overflow-x:auto;margin-bottom:4px}
.rr-table{border-collapse:collapse;width:100%;font-size:0.9rem;color:#111}
.rr-table th{text-align:left;font-weight:600;background:#f3f4f6;border-bottom:1px solid #d0d3d9;padding:5px 8px;white-space:nowrap}
.rr-table td{border-bottom:1px solid #e6e6e6;padding:5px 8px;white-space:nowrap}
.rr-table td:first-child{white-space:normal;min-width:7em;max-width:18em}
.rr-spark{display:block}
h3.rr-pillar{font-size:1.5rem;font-weight:600;line-height:1.2;color:#1f2329;margin:1.5rem 0 0.75rem;padding:0}
.rr-grid>.rr-card{content-visibility:auto;contain-intrinsic-size:auto 250px}
.rr-figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px 20px;margin:4px 0 8px}
.rr-figure-label{font-size:0.875rem;color:#31333f}
.rr-figure-value{font-size:2.1rem;line-height:1.25;color:#111;white-space:nowrap}
.rr-figure-delta{font-size:0.85rem;color:#4a4a4a}
.rr-help{cursor:help;color:#4a4a4a}
.rr-table td.rr-num,.rr-table th.rr-num{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:640px){   /* after the table rules it overrides: a phone wraps cells instead of scrolling */
  .rr-table td,.rr-table th{white-space:normal;word-break:keep-all}   /* words whole: "Not met", 53.9% */
  .rr-table td:first-child{min-width:4.5em;word-break:normal;overflow-wrap:anywhere}}
</style>
"""


def st_css() -> None:
    st.html(CSS)   # style only: Streamlit puts it in the event container, no element in the page

