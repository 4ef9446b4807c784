"""Chart export through one kaleido (Chromium) for the whole module: the bytes are the contract."""

import io
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET

import pypdf
import pytest
from PIL import Image

from metrics import charts as figures
from metrics import query
from metrics.export import charts
from tests.conftest import REPO

TITLE = "卫生厕所普及率：实际与目标路径"


@pytest.fixture(scope="module")
def renderer():
    if charts.unavailable_reason() is not None:
        pytest.fail(charts.unavailable_reason())   # the setup installs chromium: its absence is a failure
    yield
    charts.stop_renderer()


@pytest.fixture(scope="module")
def figure(demo_store):
    _, _, rows = query.assess_region(demo_store, None, "2024Q2", "demo-2021-2025")
    row = next(r for r in rows if r.target is not None and r.target.kind == "threshold")
    return figures.target_path_figure(row, "2020Q4", "zh")


def trace():
    return charts.trace_line("示范旗（演示）", "2024Q2", 9)


def pdf_text(data: bytes) -> str:
    """Text of a PDF with compatibility forms folded (Noto CJK maps some ideographs to Kangxi radicals)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return unicodedata.normalize("NFKC", "".join(p.extract_text() for p in reader.pages))


def test_cjk_font_is_installed():
    assert charts.font_installed(charts.CJK_FONT), "apt-get install fonts-noto-cjk"


def test_png_decodes_at_the_requested_print_size(renderer, figure):
    data = charts.chart_bytes(figure, "png", title=TITLE, trace=trace(), width=640, height=360, scale=3)
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    assert image.size == (1920, 1080)
    dpi = image.info["dpi"]
    assert 16.0 == pytest.approx(1920 / dpi[0] * 2.54, abs=0.1)   # prints 16 cm wide: the A4 text width


def test_svg_parses_and_names_the_cjk_font_and_the_trace(renderer, figure):
    data = charts.chart_bytes(figure, "svg", title=TITLE, trace=trace())
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert TITLE in text
    assert "示范旗（演示） · 2024年第二季度 · 数据版本 v9" in text
    assert charts.CJK_FONT in data.decode("utf-8")


def test_pdf_embeds_the_chinese_glyphs(renderer, figure):
    data = charts.chart_bytes(figure, "pdf", title=TITLE, trace=trace())
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert unicodedata.normalize("NFKC", TITLE) in text, "the title did not come back as text: glyphs missing"
    assert "示范旗" in text and "数据版本" in text
    # every font travels inside the file (Chromium writes glyph procedures, Type3), none is left to the reader
    fonts = list(_fonts(pypdf.PdfReader(io.BytesIO(data))))
    assert fonts and all(_embedded(f) for f in fonts)


def _embedded(font) -> bool:
    if font.get("/Subtype") == "/Type3":
        return "/CharProcs" in font
    descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
    return all(any(k in (d.get("/FontDescriptor") or {}) for k in ("/FontFile", "/FontFile2", "/FontFile3"))
               for d in descendants)


def _fonts(reader):
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            yield font.get_object()
        for xobj in (resources.get("/XObject") or {}).values():
            sub = xobj.get_object().get("/Resources") or {}
            for font in (sub.get("/Font") or {}).values():
                yield font.get_object()


def test_later_exports_reuse_the_browser(renderer, figure):
    import time
    charts.chart_bytes(figure, "svg")
    started = time.perf_counter()
    charts.chart_bytes(figure, "svg")
    assert time.perf_counter() - started < 4.0      # no new browser: a start alone takes ~4 s


def test_no_browser_says_why_and_how_to_fix(tmp_path):
    code = ("from metrics.export import charts\n"
            "import plotly.graph_objects as go\n"
            "print(charts.unavailable_reason('zh'))\n"
            "try:\n    charts.chart_bytes(go.Figure(), 'png')\n"
            "except charts.ExportUnavailable as e:\n    print('EN', e.message('en'))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                         env={"BROWSER_PATH": str(tmp_path / "no-chromium"), "PATH": "/nonexistent"})
    assert out.returncode == 0, out.stderr
    assert "没有找到 Chromium" in out.stdout and "apt-get install chromium" in out.stdout
    assert "EN Charts cannot be exported" in out.stdout and "BROWSER_PATH" in out.stdout


def test_missing_cjk_font_is_refused_with_the_fix(monkeypatch, figure):
    monkeypatch.setattr(charts, "font_installed", lambda family=charts.CJK_FONT: False)
    assert "apt-get install fonts-noto-cjk" in charts.unavailable_reason("zh")
    with pytest.raises(charts.ExportUnavailable) as err:
        charts.chart_bytes(figure, "png")
    assert "Noto Sans CJK SC" in err.value.message("en")


def test_png_dpi_tag_replaces_an_existing_one():
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buf, "PNG", dpi=(72, 72))
    tagged = charts.with_dpi(charts.with_dpi(buf.getvalue(), 150), 300)
    image = Image.open(io.BytesIO(tagged))
    assert image.info["dpi"][0] == pytest.approx(300, abs=0.5)
    assert tagged.count(b"pHYs") == 1


def test_file_names_never_become_paths():
    assert charts.file_name("../../etc/passwd 卫生厕所", "png") == "etc_passwd_卫生厕所.png"
