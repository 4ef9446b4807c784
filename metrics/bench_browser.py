"""``python -m metrics bench --browser``: first render and click times in Chromium (Playwright).

In one run, on the demo data set (generated into a temporary directory):

- a bare one-line Streamlit page (the floor: what Streamlit itself costs);
- the overview and the indicator page, each opened in a fresh browser context (a new
  session), timed two ways from navigation: **first render** (the issue's measure), until the
  script has stopped running and the page's charts are drawn (plotly charts, and the SVG charts
  drawn in Python); **settled** (stricter), until the last DOM mutation once the DOM has been
  quiet for ``QUIET_MS`` — what the page still draws after that (sidebar widgets, data grids,
  fonts' relayout) counts, the quiet window that proves it over does not. Every page, the bare
  one too, is measured both ways;
- clicks within one session: a status filter on the overview and a region change in the
  sidebar, each until the rerun has finished.

Each figure is the median of ``repeats`` runs; the ratio to the bare page is the goal of the
leadership pages (≤ 1.3×, a click ≤ 0.5 s). The bare page is opened twice: at the root (``/``,
as the overview is) and at the indicator page's URL (``/indicator``; a one-page app serves the
same page under any path). Streamlit's client, opened at any URL but the root, first probes
``<path>/_stcore/health`` (a 404 by design: a page path is not a server base path), waits
100 ms and then connects at the root — ~75–100 ms that every deep link pays, the bare page
too. Each page is judged against the bare page at the same kind of URL (``ratio``, ``ok``);
the ratio to the bare page at the root is reported beside it (``ratio_to_root``). Owned by the leadership-pages work;
``metrics.bench`` calls ``run``. Needs Debian's chromium and the playwright package.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from metrics import paths

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
BARE_PAGE = 'import streamlit as st\nst.write("乡村振兴目标监测")\n'
FIRST_RENDER_GOAL = 1.3    # × the bare page
CLICK_GOAL_S = 0.5
TIMEOUT_MS = 60_000
TOWNSHIP = "东风示范苏木"
# each page, and the bare page whose time is its floor (the same kind of URL: see the docstring)
PAGES = {"bare": None, "bare_deep": None, "overview": "bare", "indicator": "bare_deep"}
QUIET_MS = 400             # no DOM mutation for this long after the script stopped: drawn

# Set in the page before an action: resolves once Streamlit's script state goes
# running → notRunning (a MutationObserver sees every attribute change).
_WATCH_RERUN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__rerunDone = false; let seenRunning = false;
  const obs = new MutationObserver(() => {
    const s = app.getAttribute('data-test-script-state');
    if (s === 'running') seenRunning = true;
    if (seenRunning && s === 'notRunning') { window.__rerunDone = true; obs.disconnect(); }
  });
  obs.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
_IDLE = """() => document.querySelector('[data-testid="stApp"]')
  ?.getAttribute('data-test-script-state') === 'notRunning'"""
# idle, and every plotly chart on the page has drawn its SVG
_IDLE_AND_DRAWN = """(n) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const plots = document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot');
  if (plots.length < n) return false;
  return Array.from(plots).every(p => p.querySelector('svg.main-svg .cartesianlayer .subplot'));
}"""
# Installed before the page's own scripts: the time (performance.now) of the last DOM mutation.
_WATCH_MUTATIONS = """(() => {
  window.__lastMutation = performance.now();
  new MutationObserver(() => { window.__lastMutation = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})()"""
# _IDLE_AND_DRAWN with n plotly charts, at least m SVG charts drawn in Python (svg.rr-chart),
# then quiet for QUIET_MS: returns how long ago the last mutation was (ms)
_DRAWN = """([n, m]) => (""" + _IDLE_AND_DRAWN + """)(n)
  && document.querySelectorAll('[data-testid="stMain"] svg.rr-chart').length >= m"""
_DRAWN_AND_QUIET = """([n, m, quiet]) => {
  if (!(""" + _IDLE_AND_DRAWN + """)(n)) return false;
  if (document.querySelectorAll('[data-testid="stMain"] svg.rr-chart').length < m) return false;
  const since = performance.now() - window.__lastMutation;
  return since >= quiet ? since : false;
}"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


@contextlib.contextmanager
def serve(script: Path, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """A Streamlit server for ``script`` on a free port; yields its base URL once healthy."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(f"{base}/_stcore/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Streamlit did not start for {script} (exit {proc.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _first_render(browser, url: str, charts: tuple[int, int], context=None) -> tuple[float, float]:
    """Seconds from navigation in a new session until (drawn) the script has stopped and
    ``charts`` = (plotly charts, SVG charts) are drawn — the issue's measure — and until
    (settled) its last DOM mutation once it has been quiet for QUIET_MS.

    Without ``context``: a fresh browser context (cold HTTP cache, a first-time visitor).
    With one: a new tab in it (a new Streamlit session, the browser's cache already warm —
    a leader who has opened the dashboard before).
    """
    own = context is None
    context = context or browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        page = context.new_page()
        page.add_init_script(_WATCH_MUTATIONS)
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector('[data-testid="stMain"] h1, [data-testid="stMain"] p', timeout=TIMEOUT_MS)
        page.wait_for_function(_DRAWN, arg=list(charts), timeout=TIMEOUT_MS, polling=20)
        drawn = time.perf_counter() - start
        since_ms = page.wait_for_function(_DRAWN_AND_QUIET, arg=[*charts, QUIET_MS], timeout=TIMEOUT_MS,
                                          polling=20).json_value()
        settled = time.perf_counter() - start - since_ms / 1000
        page.close()
        return drawn, max(drawn, settled)
    finally:
        if own:
            context.close()


def _click(page, action) -> float:
    """Seconds from a click until the rerun it triggers has finished."""
    page.wait_for_function(_IDLE, timeout=TIMEOUT_MS)
    page.evaluate(_WATCH_RERUN)
    start = time.perf_counter()
    action()
    page.wait_for_function("() => window.__rerunDone === true", timeout=TIMEOUT_MS, polling=10)
    return time.perf_counter() - start


def _clicks(browser, base: str, repeats: int) -> dict[str, list[float]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    out: dict[str, list[float]] = {"status_filter": [], "region_change": []}
    try:
        page = context.new_page()
        page.goto(base + "/")
        page.wait_for_function(_IDLE_AND_DRAWN, arg=0, timeout=TIMEOUT_MS)
        main = page.get_by_test_id("stMain")
        box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="乡镇（苏木）")

        def pick(name: str) -> None:
            box.click()
            page.get_by_role("option", name=name).click()

        for _ in range(repeats):
            pill = main.get_by_role("radiogroup").first.get_by_role("radio").first
            out["status_filter"].append(_click(page, pill.click))
            out["status_filter"].append(_click(page, pill.click))   # and off again
            out["region_change"].append(_click(page, lambda: pick(TOWNSHIP)))
            out["region_change"].append(_click(page, lambda: pick("（全部）")))
    finally:
        context.close()
    return out


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3) if xs else float("nan")


def judge(series: dict[str, list[float]]) -> dict[str, dict]:
    """Median of each page's times; each app page against the bare page at its kind of URL."""
    out: dict[str, dict] = {}
    root_s = _median(series["bare"])
    for name, xs in series.items():
        out[name] = {"median": _median(xs), "all": [round(x, 3) for x in xs]}
        floor = PAGES[name]
        if floor:
            floor_s = _median(series[floor])
            ratio = round(_median(xs) / floor_s, 2) if floor_s else None
            out[name].update(ratio=ratio, against=floor, ok=ratio is not None and ratio <= FIRST_RENDER_GOAL,
                             ratio_to_root=round(_median(xs) / root_s, 2) if root_s else None)
    return out


def run(repeats: int = 3) -> dict:
    """Time first renders (bare page, overview, indicator page) and clicks; medians in seconds."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="rrtt_bench_browser_") as tmp:
        tmpdir = Path(tmp)
        data = tmpdir / "data"
        subprocess.run([sys.executable, "-m", "metrics", "--data-dir", str(data), "demo"],
                       cwd=paths.REPO_DIR, check=True, capture_output=True, timeout=300)
        bare = tmpdir / "bare.py"
        bare.write_text(BARE_PAGE, encoding="utf-8")
        env = {"RRTT_DATA_DIR": str(data), "RRTT_ANONYMOUS": "1"}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in PAGES}
        warm: dict[str, list[tuple[float, float]]] = {name: [] for name in PAGES}
        with sync_playwright() as pw, serve(bare, tmpdir, env) as bare_url, \
                serve(paths.REPO_DIR / "app.py", paths.REPO_DIR, env) as app_url:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                # warm-up: the first visit of each server imports modules and fills caches
                _first_render(browser, bare_url, (0, 0))
                _first_render(browser, bare_url + "/indicator", (0, 0))
                _first_render(browser, app_url + "/", (0, 0))
                _first_render(browser, app_url + "/indicator", (0, 1))
                # (plotly charts, SVG charts) each page must have drawn: the indicator page's target
                # path is an SVG (its plotly figure is behind the "interactive chart" toggle)
                targets = {"bare": (bare_url, (0, 0)), "bare_deep": (bare_url + "/indicator", (0, 0)),
                           "overview": (app_url + "/", (0, 0)),
                           "indicator": (app_url + "/indicator", (0, 1))}
                for _ in range(repeats):   # interleaved, so load on the machine hits all alike
                    for name, (url, charts) in targets.items():
                        times[name].append(_first_render(browser, url, charts))
                cached = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
                try:
                    for url, charts in targets.values():   # fill the HTTP cache once
                        _first_render(browser, url, charts, cached)
                    for _ in range(repeats):
                        for name, (url, charts) in targets.items():
                            warm[name].append(_first_render(browser, url, charts, cached))
                finally:
                    cached.close()
                clicks = _clicks(browser, app_url, repeats)
            finally:
                browser.close()

    result: dict = {"repeats": repeats, "goal_ratio": FIRST_RENDER_GOAL, "goal_click_s": CLICK_GOAL_S,
                    "measured_to": {"first_render_s": "script stopped and the last chart drawn (the issue's measure)",
                                    "settled_s": f"last DOM mutation, after idle + {QUIET_MS} ms quiet"},
                    "load_average": list(os.getloadavg()), "first_render_s": {}, "settled_s": {},
                    "first_render_warm_cache_s": {}, "settled_warm_cache_s": {}, "click_s": {}}
    for key, series, which in (("first_render_s", times, 0), ("settled_s", times, 1),
                               ("first_render_warm_cache_s", warm, 0), ("settled_warm_cache_s", warm, 1)):
        result[key] = judge({name: [x[which] for x in pairs] for name, pairs in series.items()})
    for name, xs in clicks.items():
        result["click_s"][name] = {"median": _median(xs), "max": round(max(xs), 3) if xs else None,
                                   "all": [round(x, 3) for x in xs], "ok": _median(xs) <= CLICK_GOAL_S}
    return result


def format_result(result: dict) -> str:
    """Plain-text lines for the CLI."""
    lines = []
    for key, title in (("first_render_s", "首次渲染 first render (stopped, last chart drawn), new browser"),
                       ("settled_s", "完全静止 settled (last DOM change), new browser"),
                       ("first_render_warm_cache_s", "首次渲染 first render, new session, browser cache warm"),
                       ("settled_warm_cache_s", "完全静止 settled, new session, browser cache warm")):
        fr = result[key]
        lines += [f"{title} (median of {result['repeats']}, load {result['load_average'][0]:.2f}):",
                  f"  bare page at /            {fr['bare']['median']:.2f} s",
                  f"  bare page at /indicator   {fr['bare_deep']['median']:.2f} s"]
        for name in ("overview", "indicator"):
            r = fr[name]
            lines.append(f"  {name:<11} {r['median']:.2f} s  = {r['ratio']}× the bare page at its URL "
                         f"(goal ≤ {result['goal_ratio']}×: {'ok' if r['ok'] else 'MISSED'}); "
                         f"{r['ratio_to_root']}× the bare page at /")
    lines.append("点击 click within a session:")
    for name, r in result["click_s"].items():
        lines.append(f"  {name:<14} median {r['median']:.2f} s, max {r['max']:.2f} s "
                     f"(goal ≤ {result['goal_click_s']} s: {'ok' if r['ok'] else 'MISSED'})")
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    res = run(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    print(format_result(res))
    print(json.dumps(res, ensure_ascii=False))
