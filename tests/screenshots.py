"""Screenshots of the leadership pages for a human to look at (not a test).

    .venv/bin/python -m tests.screenshots [DATA_DIR] [--only NAME_SUBSTRING]

Runs the app (anonymous read-only mode) on DATA_DIR (default: a fresh demo set), opens the
overview, indicator and comparison pages at a laptop width (1400 px) and a phone (390 px), in
light and dark system theme, in Chinese and English, and saves full-page PNGs under
tests/artifacts/shots/. Any request to a host other than the server is printed.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from metrics.bench_browser import _IDLE_AND_DRAWN, CHROMIUM, CHROMIUM_ARGS, serve
from tests.browser_support import ROOT

OUT = ROOT / "tests" / "artifacts" / "shots"
PAGES = {"overview": ("/", 0), "indicator": ("/indicator?indicator=toilets_built", 0),
         "compare": ("/compare", 1)}
_CONTENT_HEIGHT = """() => Math.max(...['stMain', 'stAppViewContainer', 'stMainBlockContainer'].map(id => {
  const e = document.querySelector(`[data-testid="${id}"]`);
  return e ? Math.max(e.scrollHeight, e.getBoundingClientRect().bottom) : 0; }))"""
VIEWS = {"laptop": {"viewport": {"width": 1400, "height": 1000}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                   "device_scale_factor": 2}}


def shoot(base: str, only: str = "") -> list[Path]:
    saved = []
    outside: set[str] = set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for view, opts in VIEWS.items():
            for scheme in ("light", "dark"):
                for lang in ("zh", "en"):
                    for name, (path, charts) in PAGES.items():
                        stem = f"{name}_{view}_{scheme}_{lang}"
                        if only and only not in stem:
                            continue
                        ctx = browser.new_context(color_scheme=scheme, locale="zh-CN", **opts)
                        page = ctx.new_page()
                        page.on("request", lambda r: outside.add(r.url)
                                if urlparse(r.url).hostname not in ("127.0.0.1", "localhost")
                                and not r.url.startswith(("data:", "blob:")) else None)
                        sep = "&" if "?" in path else "?"
                        page.goto(f"{base}{path}{sep}lang={lang}")
                        try:
                            page.wait_for_selector('[data-testid="stMain"] h1', timeout=180_000)
                            page.wait_for_function(_IDLE_AND_DRAWN, arg=charts, timeout=180_000)
                            # tables draw on a canvas once their grid code has loaded
                            page.wait_for_function(
                                """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"]'))
                                     .every(d => d.querySelector('canvas'))""", timeout=120_000)
                        except PlaywrightTimeout:
                            print("NOT READY (screenshot anyway):", stem)
                        # Streamlit scrolls inside its own container, so a full-page shot is the
                        # viewport: grow the viewport to the content, with every card laid out
                        # (off-screen cards skip layout: content-visibility) until the height holds
                        page.add_style_tag(content=".rr-grid>.rr-card{content-visibility:visible!important}")
                        size, height = page.viewport_size, 0
                        for _ in range(5):
                            page.wait_for_timeout(400)
                            now = min(math.ceil(page.evaluate(_CONTENT_HEIGHT)), 9000)   # CSS px may be fractional
                            if now <= height:
                                break
                            height = now
                            page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
                        page.wait_for_timeout(900)
                        file = OUT / f"{stem}.png"
                        page.screenshot(path=str(file), full_page=True)
                        saved.append(file)
                        ctx.close()
        browser.close()
    for url in sorted(outside):
        print("REQUEST OUTSIDE THE SERVER:", url)
    return saved


def main(argv: list[str]) -> None:
    only = ""
    if "--only" in argv:
        i = argv.index("--only")
        only = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(argv[0]) if argv else Path(tmp) / "data"
        if not argv:
            subprocess.run([sys.executable, "-m", "metrics", "--data-dir", str(data), "demo"],
                           cwd=ROOT, check=True, capture_output=True)
        env = {"RRTT_DATA_DIR": str(data), "RRTT_ANONYMOUS": "1"}
        with serve(ROOT / "app.py", ROOT, env) as base:
            for file in shoot(base, only):
                print(file)


if __name__ == "__main__":
    main(sys.argv[1:])
