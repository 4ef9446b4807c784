"""The assessment report: one DOCX and one PDF of the demo banner, built once for the module.

They carry the numbers the core computes, Chinese fonts set for Word, every indicator's Chinese
name as PDF text; a rebuild for the same snapshot has identical numbers; bad input gets a message.
"""

import datetime as dt
import io
import unicodedata
import zipfile

import docx
import pypdf
import pytest
from docx.oxml.ns import qn

from metrics import i18n, query
from metrics.export import charts, report
from metrics.export.report import content
from tests.conftest import run_cli

PERIOD, PLAN = "2024Q2", "demo-2021-2025"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def built(demo_store):
    """(data, docx bytes, pdf bytes, progress calls) — the module's one DOCX and one PDF."""
    calls = []
    data, docx_bytes = report.build_report(demo_store, None, PERIOD, PLAN, "docx", today=TODAY,
                                           progress=lambda f, m: calls.append((f, m)))
    pdf_bytes = report.render(data, "pdf", "zh")
    yield data, docx_bytes, pdf_bytes, calls
    charts.stop_renderer()


def test_docx_indicator_table_has_one_row_per_indicator_with_the_core_values(built, demo_store):
    data, docx_bytes, _, _ = built
    document = docx.Document(io.BytesIO(docx_bytes))
    header = [i18n.tr("indicator"), i18n.tr("export_col_unit"), i18n.tr("value"), i18n.tr("target"),
              i18n.tr("expected"), i18n.tr("progress"), i18n.tr("status"), i18n.tr("export_col_reason")]
    table = next(t for t in document.tables if [c.text for c in t.rows[0].cells] == header)
    rows = {}
    for row in table.rows[1:]:
        cells = [c.text for c in row.cells]
        if len(set(cells)) > 1:            # pillar rows span the table (one merged cell)
            rows[cells[0].removesuffix("（累计）")] = cells
    _, _, core = query.assess_region(demo_store, None, PERIOD, PLAN)
    assert len(rows) == len(core) == len(demo_store.catalog.indicators)
    for r in core:
        cells = rows[r.indicator.name_zh]
        a, d = r.assessment, r.indicator.decimals
        value = a.value if a.value is not None else r.current
        assert cells[2] == content.fmt(value, d), r.indicator.code
        assert cells[3].startswith(content.fmt(a.target, d))
        assert cells[4] == content.fmt(a.expected, d)
        assert cells[5] == content.pct(a.progress)
        assert cells[6] == i18n.status_label(a.status)
        assert cells[7]                      # every status carries its reason


def test_docx_names_the_east_asian_font_everywhere_word_looks(built):
    document = docx.Document(io.BytesIO(built[1]))
    styles = document.styles.element
    default_fonts = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    from metrics.export.report.docx import CJK_FONT
    assert default_fonts.get(qn("w:eastAsia")) == CJK_FONT
    for name in ("Normal", "Heading 1", "Heading 2", "Title"):
        fonts = document.styles[name].element.find(qn("w:rPr")).find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == CJK_FONT, name
        theme = [a for a in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme") if fonts.get(qn(a)) is not None]
        assert not theme, f"{name} still takes a theme font: {theme}"
    themed = [st.get(qn("w:styleId")) for st in styles.iterfind(qn("w:style"))
              for f in st.iterfind(qn("w:rPr") + "/" + qn("w:rFonts")) if f.get(qn("w:eastAsiaTheme")) is not None]
    assert not themed, themed


def test_docx_embeds_the_charts_as_print_pngs(built):
    data, docx_bytes, _, _ = built
    names = zipfile.ZipFile(io.BytesIO(docx_bytes)).namelist()
    images = [n for n in names if n.startswith("word/media/")]
    assert len(images) == len(content.figures(content.build_blocks(data, "zh")))


@pytest.fixture(scope="module")
def pdf_text(built) -> tuple[int, str]:
    """(pages, the PDF's text without white space, compatibility forms folded) — extracted once."""
    reader = pypdf.PdfReader(io.BytesIO(built[2]))
    text = "".join(p.extract_text() for p in reader.pages)
    return len(reader.pages), unicodedata.normalize("NFKC", "".join(text.split()))


def test_pdf_has_plausible_pages_and_every_indicator_and_the_region_as_text(pdf_text, demo_store):
    pages, text = pdf_text
    assert 6 <= pages <= 60, pages
    assert unicodedata.normalize("NFKC", demo_store.hierarchy.root.name) in text
    missing = [i.name_zh for i in demo_store.catalog.indicators.values()
               if unicodedata.normalize("NFKC", i.name_zh) not in text]
    assert not missing
    assert "评估方法" in text and "附录" in text


def test_docx_and_pdf_carry_the_same_words(built, pdf_text):
    docx_bytes = built[1]
    document = docx.Document(io.BytesIO(docx_bytes))
    words = [p.text for p in document.paragraphs if len(p.text) > 4]
    words += [c.text for t in document.tables for row in t.rows for c in row.cells if len(c.text) > 4]
    _, text = pdf_text
    missing = [w for w in set(words) if unicodedata.normalize("NFKC", "".join(w.split())) not in text]
    assert not missing, missing[:5]


def test_progress_is_reported_from_start_to_done(built):
    calls = built[3]
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert any("图表" in m for _, m in calls)


def test_a_rebuild_for_the_same_snapshot_has_identical_numbers(built, demo_store):
    data = built[0]
    again = report.report_data(demo_store, None, PERIOD, PLAN, today=TODAY)
    assert again.numbers() == data.numbers()
    assert again.version == data.version
    blocks = [b for b in content.build_blocks(again, "zh") if isinstance(b, content.Table)]
    first = [b for b in content.build_blocks(data, "zh") if isinstance(b, content.Table)]
    assert [b.rows for b in blocks] == [b.rows for b in first]


def test_english_report_is_english(demo_store, built):
    blocks = content.build_blocks(built[0], "en", sections=("summary", "table"))
    table = next(b for b in blocks if isinstance(b, content.Table) and b.header[0] == "Indicator")
    names = {r[0].removesuffix(" (cumulative)") for r in table.rows if isinstance(r, list)}
    assert names == {i.name_en for i in demo_store.catalog.indicators.values()}
    assert blocks[0].title.endswith(demo_store.hierarchy.root.name_en)


def test_children_zip_has_one_report_per_township(demo_store):
    town_codes = [c.code for c in demo_store.hierarchy.children(demo_store.hierarchy.root.code)]
    seen = []
    body = report.build_children_zip(demo_store, None, PERIOD, PLAN, "docx", sections=("summary", "table"),
                                     progress=lambda f, m: seen.append(f), today=TODAY)
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert len(names) == len(town_codes)
    assert all(any(code in n for n in names) for code in town_codes)
    assert all(n.endswith(".docx") and "/" not in n for n in names)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_bad_input_gets_a_message_not_a_trace(demo_dir, tmp_path):
    out = tmp_path / "r.pdf"
    res = run_cli("report", "--region", "99", "--format", "pdf", "-o", str(out), data_dir=demo_dir)
    assert res.returncode == 2 and "未知地区代码：99" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("report", "--period", "2024Q9", "--format", "docx", "-o", str(out), data_dir=demo_dir)
    assert res.returncode == 2 and "YYYYQn" in res.stderr
    res = run_cli("report", "--plan", "nope", "--format", "docx", "-o", str(out), data_dir=demo_dir)
    assert res.returncode == 2 and "未知规划" in res.stderr
    res = run_cli("report", "--region", "990121101201", "--children", "--format", "docx",
                  "-o", str(out), data_dir=demo_dir)
    assert res.returncode == 2 and "没有下级地区" in res.stderr
    res = run_cli("report", "--sections", "summary,charts", "--format", "docx", "-o", str(out), data_dir=demo_dir)
    assert res.returncode == 2 and "未知的报告部分：charts" in res.stderr
    assert not out.exists()


def test_cli_writes_a_report_file(demo_dir, tmp_path):
    """The CLI end to end, in English for a township (charts are covered above: two sections here)."""
    from metrics.export import cli
    assert cli.SECTION_KEYS == report.SECTIONS
    out = tmp_path / "town.docx"
    town = "990121101000"
    res = run_cli("report", "--region", town, "--period", PERIOD, "--plan", PLAN, "--format", "docx",
                  "--lang", "en", "--sections", "summary,table", "-o", str(out), data_dir=demo_dir)
    assert res.returncode == 0, res.stderr
    assert "[100%]" in res.stderr
    document = docx.Document(str(out))
    assert any("Dongfeng Demo Sumu" in p.text for p in document.paragraphs)


def test_as_of_a_snapshot_rebuilds_identically_and_says_where_it_stands(demo_store, built):
    live = [s.id for s in demo_store.snapshots() if not s.retracted]
    then = live[-2]
    first = report.report_data(demo_store, None, PERIOD, PLAN, as_of=then, today=TODAY)
    second = report.report_data(demo_store, None, PERIOD, PLAN, as_of=str(then), today=TODAY)
    assert first.numbers() == second.numbers()
    assert first.snapshot.id == then and all(s.id <= then for s in first.snapshots)
    cover = content.cover(first, "zh")
    assert f"截至第 {then} 号数据版本" in dict(cover.fields)[i18n.tr("report_snapshot")]
    assert "历史版本视图" in dict(cover.fields)[i18n.tr("report_snapshot")]
    # as of the newest snapshot, the report prints exactly what the live one does
    newest = report.report_data(demo_store, None, PERIOD, PLAN, as_of=live[-1], today=TODAY)
    assert content.indicator_table(newest, "zh").rows == content.indicator_table(built[0], "zh").rows
    with pytest.raises(report.ReportError) as err:
        report.report_data(demo_store, None, PERIOD, PLAN, as_of=999)
    assert "999" in err.value.message("zh")
