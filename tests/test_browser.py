"""End-to-end browser tests: the Streamlit app on the demo data, driven by Debian's Chromium.

One Streamlit server (on a free port, with a fresh demo data set) and one Chromium serve the
whole module; each test opens its own browser context and saves a full-page screenshot under
tests/artifacts/ for a human to look at. Chromium is required: if it is missing the tests fail.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, ROOT, streamlit_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT = 30_000  # ms, for every wait on the asynchronously rendered page
TOWNSHIP = "东风示范苏木"
TOWNSHIP_CODE = "990121101000"
QUERY = "plan=demo-2021-2025&period=2024Q2"
FIRST_VISIT: dict = {}  # what the first visitor of the module's server saw
CJK = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> str:
    d = str(tmp_path_factory.mktemp("rrtt_data"))
    subprocess.run([sys.executable, "-m", "metrics", "--data-dir", d, "demo"],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return d


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    "(apt-get install chromium); Playwright's own browsers are not used.")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(data_dir, chromium, tmp_path_factory):
    """The app on the demo data. Its very first visitor follows a deep link (a bookmark to the
    indicator page): on a fresh server Streamlit routes such a link by the old pages/ folder
    convention, before app.py has ever called st.navigation. What that visitor saw is kept in
    ``server_first_visit`` for test_deep_link_on_fresh_server."""
    # leadership pages as an intranet screen shows them: anonymous read-only mode, no login
    with streamlit_server(data_dir, tmp_path_factory.mktemp("rrtt_log") / "streamlit.log",
                          env={"RRTT_ANONYMOUS": "1"}) as base:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        try:
            pg = context.new_page()
            pg.goto(f"{base}/indicator?{QUERY}&indicator=road_good_rate")
            main = pg.get_by_test_id("stMain")
            expect(main.get_by_role("heading", name="指标详情").or_(
                main.get_by_test_id("stException")).first).to_be_visible()
            _wait_idle(pg)
            try:   # the script may still rerun once (the URL synced) after the first idle moment
                expect(main.get_by_text("农村公路优良中等路率").or_(
                    main.get_by_test_id("stException")).first).to_be_visible(timeout=30_000)
            except AssertionError:
                pass    # recorded below as not shown
            FIRST_VISIT.update(
                exceptions=[e.inner_text()[:500] for e in main.get_by_test_id("stException").all()],
                has_indicator=main.get_by_text("农村公路优良中等路率").count() > 0,
                url=pg.url)
            _screenshot(pg, "deep_link_fresh_server.png")
            if FIRST_VISIT["exceptions"]:  # let the other tests run on a server that app.py has set up
                pg.goto(base + "/")
                expect(main.get_by_role("heading", name="总览")).to_be_visible()
        finally:
            context.close()
        yield base


@pytest.fixture
def page(chromium) -> Page:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT)
    pg = context.new_page()
    yield pg
    context.close()


def _wait_idle(page: Page) -> None:
    """Wait until Streamlit has finished the current script run (stApp's script state)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def _screenshot(page: Page, name: str) -> None:
    """Save the whole page. Streamlit scrolls inside <main>, not the document, so a plain
    full_page screenshot stops at the viewport: grow the viewport to the content first."""
    _wait_idle(page)
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(height, 8000)})
    page.wait_for_timeout(800)  # short settle so fonts / plotly relayout are painted
    _wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size(size)


def _phone(chromium):
    """A 390 px phone (touch, 2× pixels): its context (to close) and a page in it."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                   is_mobile=True, has_touch=True, device_scale_factor=2)
    context.set_default_timeout(TIMEOUT)
    return context, context.new_page()


def _main(page: Page):
    return page.get_by_test_id("stMain")


def _status_strip(page: Page, label: str = "指标状态"):
    """The status strip is an st.pills group: an ARIA radiogroup named after its label."""
    return _main(page).get_by_role("radiogroup", name=label)


def _caption(page: Page):
    """The line under the page title: region · quarter · plan."""
    return _main(page).get_by_test_id("stCaptionContainer").first


def _selectbox_values(page: Page) -> list[str]:
    return [box.get_by_role("combobox").input_value()
            for box in page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").all()]


def _switch_language(page: Page, label: str) -> None:
    page.get_by_test_id("stSidebar").get_by_text(label, exact=True).click()


def _open_overview(page: Page, base: str, query: str = "") -> None:
    # the default page lives at the root URL (Streamlit ignores a default page's url_path)
    page.goto(f"{base}/{'?' + query if query else ''}")
    expect(_main(page).get_by_role("heading", name="总览")).to_be_visible()
    expect(_main(page).get_by_text("签约慢性病患者随访履约率").first).to_be_visible()
    _wait_idle(page)


def test_deep_link_on_fresh_server(server):
    """A bookmarked indicator link opened first after a server (re)start shows the page."""
    assert FIRST_VISIT, "the server fixture did not record its first visit"
    assert not FIRST_VISIT["exceptions"], f"first visit to a deep link crashed: {FIRST_VISIT}"
    assert FIRST_VISIT["has_indicator"], f"first visit to a deep link did not show the indicator: {FIRST_VISIT}"
    assert "indicator=road_good_rate" in FIRST_VISIT["url"], FIRST_VISIT


def test_overview_zh(server, page: Page):
    _open_overview(page, server)
    main = _main(page)
    expect(main.get_by_text("演示数据").first).to_be_visible()
    expect(main.get_by_text("新建卫生厕所").first).to_be_visible()
    expect(main.get_by_text("指标状态", exact=True)).to_be_visible()
    expect(_status_strip(page)).to_be_visible()
    expect(_status_strip(page).get_by_role("radio").first).to_be_visible()
    _screenshot(page, "overview_zh.png")


def test_overview_pick_township(server, page: Page):
    _open_overview(page, server)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="乡镇（苏木）").click()
    page.get_by_role("option", name=TOWNSHIP).click()
    expect(_caption(page)).to_contain_text(TOWNSHIP)
    expect(page).to_have_url(re.compile(rf"[?&]region={TOWNSHIP_CODE}(&|$)"))
    expect(_main(page).get_by_text("签约慢性病患者随访履约率").first).to_be_visible()
    _wait_idle(page)
    _screenshot(page, "overview_township.png")


def test_indicator_charts(server, page: Page):
    page.goto(f"{server}/indicator?{QUERY}&indicator=road_good_rate")
    main = _main(page)
    expect(main.get_by_role("heading", name="指标详情")).to_be_visible()
    expect(main.get_by_text("农村公路优良中等路率").first).to_be_visible()
    expect(main.get_by_text("目标出处").first).to_be_visible()
    # first view: the target path as an SVG drawn in Python, the ranking as HTML bars, no plotly
    chart = main.locator("svg.rr-chart.rr-svg-wide")
    expect(chart).to_be_visible()
    expect(main.locator("svg.rr-chart.rr-svg-narrow")).to_be_hidden()   # the phone's size
    expect(chart.locator("text", has_text="实际值").first).to_be_attached()
    expect(chart.locator("polyline.rr-actual")).to_have_count(1)
    expect(main.locator(".rr-rank .rr-rank-bar").first).to_be_visible()
    _wait_idle(page)
    assert main.locator(".js-plotly-plot").count() == 0
    box = chart.bounding_box()
    assert box["height"] > 250 and box["width"] > 600, box
    _screenshot(page, "indicator_zh.png")
    # the toggle brings the interactive (plotly) charts, both drawn
    main.get_by_text("交互式图表", exact=True).click()
    plots = main.locator(".js-plotly-plot")
    expect(plots.nth(1).locator("svg.main-svg .cartesianlayer .subplot").first).to_be_attached()
    _wait_idle(page)
    assert main.locator("svg.rr-chart").count() == 0
    assert plots.count() == 2


def test_switch_to_english(server, page: Page):
    _open_overview(page, server, QUERY)
    _switch_language(page, "English")
    main = _main(page)
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()
    nav = page.get_by_role("navigation").first
    expect(nav).to_contain_text("Overview")
    expect(nav).to_contain_text("Indicator")
    expect(nav).not_to_contain_text("总览")
    expect(page).to_have_url(re.compile(r"[?&]lang=en(&|$)"))
    strip = _status_strip(page, "Indicator status")
    expect(strip.get_by_role("radio", name=re.compile(r"Achieved|On track")).first).to_be_visible()
    _wait_idle(page)
    text = strip.inner_text()
    assert "已达标" not in text and "正常推进" not in text, f"Chinese left in the status strip: {text!r}"
    assert not CJK.search(text), f"Chinese left in the status strip: {text!r}"
    _screenshot(page, "overview_en.png")

    page.goto(f"{server}/indicator?lang=en&{QUERY}&indicator=road_good_rate")
    expect(main.get_by_role("heading", name="Indicator")).to_be_visible()
    expect(main.get_by_text("Target source").first).to_be_visible()
    chart = main.locator("svg.rr-chart.rr-svg-wide")
    expect(chart.locator("text", has_text="Actual").first).to_be_attached()
    assert not CJK.search(" ".join(chart.locator("text").all_text_contents())), "Chinese left in the chart"
    _screenshot(page, "indicator_en.png")


def test_compare_heatmap(server, page: Page):
    page.goto(f"{server}/compare?{QUERY}")
    main = _main(page)
    expect(main.get_by_role("heading", name="地区对比")).to_be_visible()
    plot = main.locator(".js-plotly-plot").first
    expect(plot).to_be_visible()
    expect(plot.locator("svg.main-svg").first).to_be_attached()
    expect(plot.locator(".heatmaplayer, .hm, image").first).to_be_attached()
    expect(main.get_by_text(TOWNSHIP).first).to_be_attached()
    _wait_idle(page)
    _screenshot(page, "compare_zh.png")


def test_overview_phone_width(server, chromium):
    context, page = _phone(chromium)
    try:
        _open_overview(page, server)
        widths = page.evaluate("""() => {
            const main = document.querySelector('[data-testid="stMain"]');
            return {doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                    main: main.scrollWidth, mainClient: main.clientWidth};
        }""")
        _screenshot(page, "overview_phone.png")
        assert widths["doc"] <= 390 + 4, f"the page overflows a 390 px phone horizontally: {widths}"
        assert widths["main"] <= widths["mainClient"] + 4, f"the main block overflows horizontally: {widths}"
        _assert_tables_fit(page)
    finally:
        context.close()


def test_phone_english_cards_keep_words_whole(server, chromium):
    """On a 390 px phone in English, "Progress 42%" in a card stays on one line (it broke mid-word)."""
    context, page = _phone(chromium)
    try:
        page.goto(f"{server}/?lang=en&{QUERY}")
        expect(_main(page).get_by_role("heading", name="Overview")).to_be_visible()
        _wait_idle(page)
        expect(_main(page).locator(".rr-card").first).to_be_visible()
        # the line boxes of the word itself: one, unless it is broken across lines
        words = _main(page).locator(".rr-card span").evaluate_all("""els => els
          .filter(e => e.firstChild && e.firstChild.nodeType === 3 && e.textContent.trim().startsWith('Progress'))
          .map(e => { const t = e.firstChild, i = t.textContent.indexOf('Progress'), r = document.createRange();
                      r.setStart(t, i); r.setEnd(t, i + 'Progress'.length);
                      return [e.textContent, r.getClientRects().length, e.getClientRects().length]; })""")
        assert len(words) > 20, words[:3]
        broken = [text for text, word, _ in words if word != 1]
        assert not broken, f"'Progress' breaks mid-word in the cards on a phone: {broken[:5]}"
        wrapped = [text for text, _, span in words if span != 1]
        assert not wrapped, f"'Progress NN%' wraps inside the card on a phone: {wrapped[:5]}"
        _assert_tables_fit(page)
    finally:
        context.close()


def _assert_tables_fit(page: Page) -> None:
    """No table of the page scrolls sideways (the lagging list's last column, 应达, did on a phone)."""
    sizes = _main(page).locator(".rr-table-wrap").evaluate_all(
        "els => els.map(e => [e.scrollWidth, e.clientWidth, e.querySelector('th:last-child')?.textContent])")
    assert sizes, "no static table on the page"
    wide = [s for s in sizes if s[0] > s[1] + 1]
    assert not wide, f"tables scroll sideways on a phone (scrollWidth, clientWidth, last column): {wide}"


def test_language_switch_keeps_selection(server, page: Page):
    page.goto(f"{server}/indicator?{QUERY}&indicator=road_good_rate")
    expect(_main(page).get_by_role("heading", name="指标详情")).to_be_visible()
    _wait_idle(page)
    _switch_language(page, "English")
    expect(_main(page).get_by_role("heading", name="Indicator")).to_be_visible()
    _wait_idle(page)
    values = _selectbox_values(page)
    page.get_by_role("navigation").first.get_by_text("Overview", exact=True).click()
    expect(_main(page).get_by_role("heading", name="Overview")).to_be_visible()
    _wait_idle(page)
    caption = _caption(page).inner_text()
    problems = []
    if any(CJK.search(v) for v in values):
        problems.append(f"Chinese left in the English sidebar: {values}")
    if "2024 Q2" not in caption:   # the quarter in the UI language
        problems.append(f"the quarter was lost on the page change: {caption!r}")
    assert not problems, "; ".join(problems)


# -- leadership pages (#7): dark system theme, kiosk-clean, heatmap click, phone first screen --------
CONTRAST_JS = """() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const blend = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = (el) => {   // composite the ancestors' backgrounds from the root down
    const chain = []; for (let e = el; e; e = e.parentElement) chain.push(e);
    let bg = [255, 255, 255, 1];
    for (const e of chain.reverse()) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) bg = blend(c, bg); }
    return bg; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const bad = [];
  const roots = document.querySelectorAll('[data-testid="stMain"], [data-testid="stSidebar"]');
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent.trim(); const el = n.parentElement;
      if (!text || !el || el.closest('svg, script, style, [aria-hidden="true"]')) continue;
      const box = el.getBoundingClientRect(); if (box.width === 0 || box.height === 0) continue;
      const st = getComputedStyle(el); if (st.visibility === 'hidden' || Number(st.opacity) === 0) continue;
      const fg = parse(st.color); const bg = background(el);
      const r = ratio(blend(fg, bg), bg);
      if (r < 4.5) bad.push([text.slice(0, 30), st.color, 'rgb(' + bg.slice(0, 3).map(Math.round) + ')', r.toFixed(2)]);
    }
  }
  // chart text: SVG fill against the chart's white paper (plotly's, and the SVG charts drawn in Python)
  for (const t of document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot svg text, [data-testid="stMain"] svg.rr-chart text')) {
    const text = t.textContent.trim(); if (!text) continue;
    const fill = parse(getComputedStyle(t).fill); if (!fill) continue;
    const r = ratio(blend(fill, [255, 255, 255, 1]), [255, 255, 255, 1]);
    if (r < 4.5 && !t.closest('.heatmaplayer, .barlayer')) bad.push(['chart: ' + text.slice(0, 30), getComputedStyle(t).fill, 'paper', r.toFixed(2)]);
  }
  return bad;
}"""


@pytest.mark.parametrize("path", ["/?" + QUERY, f"/indicator?{QUERY}&indicator=road_good_rate", "/compare?" + QUERY])
def test_dark_system_theme_keeps_text_contrast(server, chromium, path):
    """A leader whose system theme is dark: every text of the page and its charts ≥ 4.5:1."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN", color_scheme="dark")
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    try:
        page.goto(server + path)
        expect(_main(page).get_by_role("heading").first).to_be_visible()
        _wait_idle(page)
        page.wait_for_timeout(500)
        bad = page.evaluate(CONTRAST_JS)
        name = path.split("?")[0].strip("/") or "overview"
        _screenshot(page, f"dark_{name}.png")
        assert not bad, f"text below 4.5:1 contrast in dark system theme on {path}: {bad[:12]}"
    finally:
        context.close()


def test_no_request_leaves_the_server_and_no_developer_menu(server, page: Page):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((server, "data:", "blob:")) else None)
    for path in ("/?" + QUERY, f"/indicator?{QUERY}&indicator=road_good_rate", "/compare?" + QUERY):
        page.goto(server + path)
        expect(_main(page).get_by_role("heading").first).to_be_visible()
        _wait_idle(page)
        page.wait_for_timeout(300)
    assert not outside, f"requests outside the server: {outside}"
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href || ''")
    assert icon.startswith(server), f"favicon not served locally: {icon!r}"


def test_heatmap_click_opens_that_regions_indicator(server, page: Page):
    page.goto(f"{server}/compare?{QUERY}")
    main = _main(page)
    plot = main.locator(".js-plotly-plot").first
    # a busy 2-core machine took 50 s to draw it once: wait for the drawing, not a fixed time
    expect(plot.locator(".cartesianlayer .subplot").first).to_be_attached(timeout=120_000)
    _wait_idle(page)
    box = plot.locator(".nsewdrag").first.bounding_box()
    cols, rows = 8, page.evaluate("() => document.querySelector('.js-plotly-plot').data[0].y.length")
    # the first sub-region (column 0), the first indicator row
    x, y = box["x"] + box["width"] / cols / 2, box["y"] + box["height"] / rows / 2
    page.mouse.move(x, y)         # plotly reports a click on the point under the hover
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    expect(main.get_by_role("heading", name="指标详情")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]indicator=[a-z_0-9]+"))
    expect(page).to_have_url(re.compile(rf"[?&]region={TOWNSHIP_CODE}(&|$)"))
    expect(_caption(page)).to_contain_text(TOWNSHIP)


TOP_JS = """e => e.getBoundingClientRect().top
  + document.querySelector('[data-testid="stMain"]').scrollTop"""


def test_phone_first_screen_shows_status_then_lagging(server, chromium):
    """On a 390 px phone the status counts and the lagging lists come before the cards."""
    context, page = _phone(chromium)
    try:
        _open_overview(page, server, QUERY)
        main = _main(page)
        top = lambda loc: loc.first.evaluate(TOP_JS)  # noqa: E731
        strip = top(_status_strip(page))
        lagging = top(main.get_by_role("heading", name="最滞后的指标"))
        regions = top(main.get_by_role("heading", name="进度滞后的下级地区"))
        card = top(main.locator(".rr-card"))
        assert strip < lagging < regions < card, (strip, lagging, regions, card)
        assert lagging < 1500, f"the lagging list starts {lagging:.0f} px down on a phone"
        _screenshot(page, "overview_phone_first_screen.png")
    finally:
        context.close()
