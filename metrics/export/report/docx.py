"""The report as DOCX (python-docx) — for writers to edit; the same blocks as the PDF.

Word takes East-Asian text's font from ``w:eastAsia`` (else from the theme's minor/major East
Asian font, often a fallback): it is set on the document defaults, the Normal style and every
style we use, and the headings' theme fonts are removed.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from metrics import i18n
from metrics.export.report.content import Block, Cover, Figure, Group, Heading, PageBreak, Para, Table

CJK_FONT = "Microsoft YaHei"     # 微软雅黑: on every Windows and Office for Mac, where reports are edited
LATIN_FONT = "Arial"
TEXT_WIDTH_CM = 16.0             # A4 21 cm − 2 × 2.5 cm margins
THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def set_fonts(rpr_parent, size_pt: float | None = None) -> None:
    """Explicit fonts (Latin and East-Asian) on a style's or the defaults' run properties."""
    rpr = rpr_parent.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_parent.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in THEME_ATTRS:
        if fonts.get(qn(attr)) is not None:
            del fonts.attrib[qn(attr)]
    for attr, value in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:cs", LATIN_FONT), ("w:eastAsia", CJK_FONT)):
        fonts.set(qn(attr), value)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(int(size_pt * 2)))


def _style_document(doc) -> None:
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    set_fonts(rpr_default)
    for name, size in (("Normal", 10), ("Title", 24), ("Heading 1", 15), ("Heading 2", 12), ("Caption", 8.5),
                       ("Table Grid", None)):
        style = doc.styles[name]
        set_fonts(style.element, size)
        if name.startswith("Heading") or name == "Title":
            style.font.color.rgb = RGBColor(0x0B, 0x4F, 0x7C) if name != "Title" else RGBColor(0x11, 0x11, 0x11)
    for style in styles.iterfind(qn("w:style")):   # linked "… Char" styles and the rest: no theme fonts left
        fonts = style.find(qn("w:rPr") + "/" + qn("w:rFonts"))
        if fonts is not None and any(fonts.get(qn(a)) is not None for a in THEME_ATTRS):
            set_fonts(style)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.2)


def _page_number_footer(doc, lang: str) -> None:
    p = doc.sections[0].footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, after = ("第 ", " 页") if lang == "zh" else ("Page ", "")
    p.add_run(before)
    run = p.add_run()
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    p.add_run(after)


def _shade(cell, hex_colour: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_colour.lstrip("#"))
    tc_pr.append(shd)


def _blend(hex_colour: str, alpha: float = 0.18) -> str:
    r, g, b = (int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    mix = lambda c: round(255 - (255 - c) * alpha)  # noqa: E731
    return f"{mix(r):02X}{mix(g):02X}{mix(b):02X}"


def _cell_text(cell, text: str, bold: bool = False, right: bool = False, size: float = 8) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.space_after = Pt(0)
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)


def _table(doc, t: Table) -> None:
    table = doc.add_table(rows=1, cols=len(t.header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(t.widths)
    widths = [Cm(TEXT_WIDTH_CM * w / total) for w in t.widths]
    head = table.rows[0]
    tr_pr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")   # the header row repeats on every page
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for j, text in enumerate(t.header):
        _cell_text(head.cells[j], text, bold=True, right=t.numeric[j])
        _shade(head.cells[j], "E9EEF3")
    for i, row in enumerate(t.rows):
        cells = table.add_row().cells
        if isinstance(row, Group):
            merged = cells[0].merge(cells[-1])
            _cell_text(merged, row.text, bold=True)
            _shade(merged, "F4F4F4")
            continue
        status = t.statuses[i] if i < len(t.statuses) else None
        for j, text in enumerate(row):
            _cell_text(cells[j], text, bold=(j == t.status_col), right=t.numeric[j])
            if j == t.status_col and status:
                _shade(cells[j], _blend(i18n.status_colour(status)))
    table.autofit = False
    for j, column in enumerate(table.columns):   # the grid (LibreOffice reads it) and every cell (Word does)
        column.width = widths[j]
    for row in table.rows:
        cells = row.cells
        if len({id(c._tc) for c in cells}) < len(cells):   # a merged pillar row keeps the full width
            continue
        for j, cell in enumerate(cells):
            cell.width = widths[j]
    doc.add_paragraph()


def _cover(doc, c: Cover) -> None:
    for _ in range(6):
        doc.add_paragraph()
    title = doc.add_paragraph(style="Title")
    title.add_run(c.title)
    sub = doc.add_paragraph()
    run = sub.add_run(c.subtitle)
    run.font.size = Pt(13)
    for _ in range(3):
        doc.add_paragraph()
    table = doc.add_table(rows=0, cols=2)
    for key, value in c.fields:
        cells = table.add_row().cells
        _cell_text(cells[0], key, size=10.5)
        _cell_text(cells[1], value, size=10.5)
        cells[0].width, cells[1].width = Cm(3.5), Cm(12.5)
    for note in c.notes:
        doc.add_paragraph()
        p = doc.add_paragraph()
        r = p.add_run(note)
        r.font.color.rgb = RGBColor(0x8A, 0x4B, 0x00)


def write_docx(blocks: list[Block], images: dict[int, bytes], lang: str) -> bytes:
    """``images`` maps a Figure's index in ``blocks`` to its PNG bytes."""
    doc = Document()
    _style_document(doc)
    _page_number_footer(doc, lang)
    for i, b in enumerate(blocks):
        if isinstance(b, Cover):
            _cover(doc, b)
        elif isinstance(b, PageBreak):
            doc.add_page_break()
        elif isinstance(b, Heading):
            doc.add_heading(b.text, level=b.level)
        elif isinstance(b, Para):
            p = doc.add_paragraph()
            run = p.add_run(b.text)
            if b.kind == "headline":
                run.bold = True
                run.font.size = Pt(11)
            elif b.kind == "note":
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            elif b.kind == "lead":
                p.paragraph_format.keep_with_next = True
        elif isinstance(b, Table):
            _table(doc, b)
        elif isinstance(b, Figure):
            doc.add_picture(io.BytesIO(images[i]), width=Cm(TEXT_WIDTH_CM))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
