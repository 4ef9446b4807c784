"""The report as PDF: one HTML template, SVG charts, fonts named explicitly, WeasyPrint.

WeasyPrint (≥ 63) embeds subsets of the CJK font, so the PDF carries its Chinese glyphs.
"""

from __future__ import annotations

import base64
import html

from metrics import i18n
from metrics.export.charts import CJK_FONT
from metrics.export.report.content import Block, Cover, Figure, Group, Heading, PageBreak, Para, Table

CSS = """
@page { size: A4; margin: 18mm 16mm 18mm 16mm;
  @top-right { content: "%(running)s"; font-size: 7.5pt; color: #666; }
  @bottom-center { content: "%(page_before)s" counter(page) "%(page_after)s"; font-size: 8pt; color: #666; } }
@page :first { @top-right { content: none; } @bottom-center { content: none; } }
html { font-family: "%(font)s", "Noto Sans CJK SC", sans-serif; font-size: 9.5pt; line-height: 1.55; color: #111; }
h1 { font-size: 15pt; margin: 0 0 6pt; padding-bottom: 3pt; border-bottom: 1.5pt solid #0072B2; }
h2 { font-size: 11.5pt; margin: 12pt 0 4pt; color: #0b4f7c; }
h1, h2 { page-break-after: avoid; font-weight: 700; }
p { margin: 0 0 6pt; text-align: justify; }
p.headline { font-size: 11pt; padding: 6pt 8pt; background: #f2f6fa; border-left: 3pt solid #0072B2; }
p.note { color: #555; }
p.lead { page-break-after: avoid; break-after: avoid; }
.break { page-break-before: always; }
table { width: 100%%; table-layout: fixed; border-collapse: collapse; margin: 4pt 0 10pt; font-size: 8pt; line-height: 1.35; }
thead { display: table-header-group; }
th { background: #e9eef3; font-weight: 700; text-align: left; }
th, td { border: 0.5pt solid #b8c2cc; padding: 2.5pt 4pt; vertical-align: top; overflow-wrap: break-word; hyphens: auto; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
tr { page-break-inside: avoid; }
tr.group { page-break-after: avoid; break-after: avoid; }
tr.group td { background: #f4f4f4; font-weight: 700; color: #0b4f7c; }
td.status { font-weight: 700; }
figure { margin: 6pt 0 12pt; page-break-inside: avoid; }
figure img { width: 100%%; }
.cover { padding-top: 55mm; }
.cover h1 { font-size: 24pt; border: none; line-height: 1.3; margin-bottom: 8pt; }
.cover .subtitle { font-size: 13pt; color: #333; margin-bottom: 28mm; }
.cover table { font-size: 10.5pt; width: 100%%; }
.cover td { border: none; border-bottom: 0.5pt solid #ccc; padding: 5pt 4pt; }
.cover td.k { color: #555; width: 22%%; }
.cover .notes p { margin-top: 14mm; color: #8a4b00; font-size: 9.5pt; border: 0.75pt solid #e69f00; padding: 6pt 8pt; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cover(c: Cover) -> str:
    fields = "".join(f'<tr><td class="k">{_e(k)}</td><td>{_e(v)}</td></tr>' for k, v in c.fields)
    notes = "".join(f"<p>{_e(n)}</p>" for n in c.notes)
    return (f'<section class="cover"><h1>{_e(c.title)}</h1><div class="subtitle">{_e(c.subtitle)}</div>'
            f'<table>{fields}</table><div class="notes">{notes}</div></section>')


def _table(t: Table) -> str:
    total = sum(t.widths)
    cols = "".join(f'<col style="width:{w / total * 100:.1f}%">' for w in t.widths)
    head = "".join(f'<th class="{"num" if n else ""}">{_e(h)}</th>' for h, n in zip(t.header, t.numeric))
    body = []
    for i, row in enumerate(t.rows):
        if isinstance(row, Group):
            body.append(f'<tr class="group"><td colspan="{len(t.header)}">{_e(row.text)}</td></tr>')
            continue
        status = t.statuses[i] if i < len(t.statuses) else None
        cells = []
        for j, (cell, numeric) in enumerate(zip(row, t.numeric)):
            if j == t.status_col and status:
                colour = i18n.status_colour(status)
                cells.append(f'<td class="status" style="border-left:3pt solid {colour};background:{colour}22">{_e(cell)}</td>')
            else:
                cells.append(f'<td class="{"num" if numeric else ""}">{_e(cell)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def to_html(blocks: list[Block], images: dict[int, bytes], lang: str, running: str) -> str:
    """The one HTML template: blocks in order; ``images`` maps a Figure's index to its SVG bytes."""
    parts = []
    pending_break = False
    for i, b in enumerate(blocks):
        if isinstance(b, PageBreak):
            pending_break = True
            continue
        cls = ' class="break"' if pending_break else ""
        pending_break = False
        if isinstance(b, Cover):
            parts.append(_cover(b))
        elif isinstance(b, Heading):
            parts.append(f"<h{b.level}{cls}>{_e(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            parts.append(f'<p class="{b.kind}">{_e(b.text)}</p>')
        elif isinstance(b, Table):
            parts.append(f"<div{cls}>{_table(b)}</div>")
        elif isinstance(b, Figure):
            svg = base64.b64encode(images[i]).decode("ascii")
            parts.append(f'<figure{cls}><img alt="{_e(b.title)}" src="data:image/svg+xml;base64,{svg}"></figure>')
    page_before, page_after = ("第 ", " 页") if lang == "zh" else ("Page ", "")
    css = CSS % {"font": CJK_FONT, "running": running.replace('"', "'"), "page_before": page_before,
                 "page_after": page_after}
    return (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<style>{css}</style></head><body>{''.join(parts)}</body></html>")


def write_pdf(blocks: list[Block], images: dict[int, bytes], lang: str, running: str) -> bytes:
    import weasyprint  # heavy import: only when a PDF report is built

    return weasyprint.HTML(string=to_html(blocks, images, lang, running)).write_pdf()
