"""Chart export: a plotly figure in, PNG/SVG/PDF bytes out — rendered by kaleido in Chromium.

One kaleido (one headless Chromium) per process, started on the first export and kept: the first
export pays ~4 s for the browser, later ones ~0.3–0.6 s. Calls from several threads (Streamlit
sessions) are queued safely onto the renderer's own event loop, each with a timeout.

Print sizing: the figure is laid out ``width`` CSS pixels wide (default 640 ≈ 16.9 cm at 96 dpi,
the text width of an A4 page) and rasterised at ``scale`` (default 3) — 1,920 pixels, tagged
~300 dpi so Word places it 16 cm wide. Chinese text uses an explicitly named CJK font; kaleido
substitutes silently when a font is missing, so ``font_installed`` checks for it and the tests
check the glyphs in the PDF.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import functools
import os
import shutil
import struct
import subprocess
import threading
import zlib
from pathlib import Path

import plotly.graph_objects as go

from metrics import i18n, periods

FORMATS = ("png", "svg", "pdf")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
CJK_FONT = "Noto Sans CJK SC"
PRINT_WIDTH_PX = 640       # CSS pixels: ~16.9 cm at 96 dpi, an A4 page's text width
PRINT_SCALE = 3            # raster scale: 640 px → 1,920 px
PRINT_WIDTH_CM = 16.0     # the A4 text width a PRINT_WIDTH_PX-wide figure prints at
DEFAULT_HEIGHT_PX = 380
RENDER_TIMEOUT_S = 90.0
DEFAULT_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class ExportUnavailable(RuntimeError):
    """No browser (or no renderer) for chart export; ``message(lang)`` says why and how to fix it."""

    def __init__(self, key: str, **detail: str):
        super().__init__(i18n.tr(key, "en", **detail))
        self.key, self.detail = key, detail

    def message(self, lang: str = "zh") -> str:
        return i18n.tr(self.key, lang, **self.detail)


def browser_path() -> str | None:
    """The Chromium kaleido will drive: ``$BROWSER_PATH``, else a system chromium, else None."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if Path(env).is_file() else None
    for candidate in DEFAULT_BROWSERS:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _env_note() -> str:
    env = os.environ.get("BROWSER_PATH")
    return f" (BROWSER_PATH={env})" if env else ""


def unavailable_reason(lang: str = "zh") -> str | None:
    """Why charts cannot be exported here (None when they can): cheap, no browser started."""
    if browser_path() is None:
        return ExportUnavailable("export_no_browser", path=_env_note()).message(lang)
    if not font_installed(CJK_FONT):   # Chromium would substitute silently (or draw boxes)
        return ExportUnavailable("export_no_font", font=CJK_FONT).message(lang)
    return None


@functools.lru_cache(maxsize=4)
def font_installed(family: str = CJK_FONT) -> bool:
    """Is ``family`` known to fontconfig (Chromium's font source on Linux)?"""
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(family in line.split(",") for line in out.splitlines())


class _Renderer:
    """One kaleido on a private event loop in a daemon thread; thread-safe ``render``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None

    def _start(self) -> None:
        import kaleido  # heavy import: only when the first chart is exported

        path = browser_path()
        if path is None:
            raise ExportUnavailable("export_no_browser", path=_env_note())
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="kaleido", daemon=True).start()
        k = kaleido.Kaleido(path=path, mathjax=False, timeout=RENDER_TIMEOUT_S)
        try:
            asyncio.run_coroutine_threadsafe(k.open(), loop).result(RENDER_TIMEOUT_S)
        except Exception as exc:
            loop.call_soon_threadsafe(loop.stop)
            raise ExportUnavailable("export_browser_failed", path=path, error=str(exc)[:300]) from exc
        self._loop, self._kaleido = loop, k

    def render(self, fig_dict: dict, opts: dict) -> bytes:
        with self._lock:
            if self._kaleido is None:
                self._start()
            loop, k = self._loop, self._kaleido
        future = asyncio.run_coroutine_threadsafe(k.calc_fig(fig_dict, opts=opts), loop)
        try:
            return future.result(RENDER_TIMEOUT_S + 10)
        except Exception:
            self.stop()   # a browser that failed once is restarted on the next export
            raise

    def running(self) -> bool:
        return self._kaleido is not None

    def stop(self) -> None:
        with self._lock:
            loop, k = self._loop, self._kaleido
            self._loop = self._kaleido = None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(30)
        except Exception:  # noqa: BLE001, S110 — closing a broken browser: nothing left to do
            pass
        loop.call_soon_threadsafe(loop.stop)


_RENDERER = _Renderer()
atexit.register(_RENDERER.stop)   # close the browser with the process, leave no Chromium behind


def stop_renderer() -> None:
    """Close the process's browser (tests; it is otherwise kept for the life of the process)."""
    _RENDERER.stop()


def trace_line(region: str, period: str | None, snapshot: int | str | None, lang: str = "zh") -> str:
    """'示范旗 · 2026年第三季度 · 数据版本 v9': what an exported chart shows, to trace it back."""
    parts = [region]
    if period:
        parts.append(period if lang == "en" else periods.label_zh(period))
    if snapshot is not None:   # a store version (int) reads v9; a label ("#6") is used as given
        parts.append(f"{i18n.tr('snapshot', lang)} {'v' if isinstance(snapshot, int) else ''}{snapshot}")
    return " · ".join(parts)


def for_print(fig: go.Figure, title: str | None = None, trace: str | None = None) -> go.Figure:
    """A copy of ``fig`` styled for paper: CJK font named, title and trace line on top, no UI."""
    out = go.Figure(copy.deepcopy(fig.to_dict()))
    top = 30
    layout: dict = {"font": {"family": CJK_FONT}, "paper_bgcolor": "white", "plot_bgcolor": "white",
                    "hoverlabel": {"font": {"family": CJK_FONT}}}
    if title or trace:
        layout["title"] = {"text": title or "", "x": 0, "xanchor": "left", "y": 0.985, "yanchor": "top",
                           "pad": {"l": 10},
                           "font": {"family": CJK_FONT, "size": 16, "color": "#111"},
                           "subtitle": {"text": trace or "", "font": {"family": CJK_FONT, "size": 11, "color": "#555"}}}
        top = 70
    legend = out.layout.legend
    if legend is not None and legend.orientation == "h" and (legend.y or 0) > 1:
        top += 24   # a horizontal legend above the plot sits under the title
    if (title or trace) and out.layout.xaxis.side == "top":
        top += 90   # axis labels on top (heatmaps): keep them below the title
    margin = out.layout.margin
    old_top = margin.t or 0
    layout["margin"] = {"t": max(top, old_top), "l": margin.l if margin.l is not None else 10,
                        "r": max(margin.r or 0, 20), "b": margin.b if margin.b is not None else 10}
    # the plot keeps its size: the title's room is added to the figure, not taken from the plot
    layout["height"] = (out.layout.height or DEFAULT_HEIGHT_PX) + max(top - old_top, 0)
    out.update_layout(**layout)
    return out


def chart_bytes(fig: go.Figure, fmt: str, *, title: str | None = None, trace: str | None = None,
                width: int = PRINT_WIDTH_PX, height: int | None = None, scale: float = PRINT_SCALE) -> bytes:
    """Render ``fig`` as PNG, SVG or PDF; PNG pixels are ``width·scale × height·scale``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}: {fmt!r}")
    if browser_path() is None:
        raise ExportUnavailable("export_no_browser", path=_env_note())
    if not font_installed(CJK_FONT):
        raise ExportUnavailable("export_no_font", font=CJK_FONT)
    printable = for_print(fig, title, trace)
    height = int(height or printable.layout.height or DEFAULT_HEIGHT_PX)
    printable.update_layout(width=width, height=height)
    opts = {"format": fmt, "width": width, "height": height, "scale": scale if fmt == "png" else 1}
    data = _RENDERER.render(printable.to_dict(), opts)
    return with_dpi(data, round(PRINT_WIDTH_PX * scale / (PRINT_WIDTH_CM / 2.54))) if fmt == "png" else data


def with_dpi(png: bytes, dpi: int) -> bytes:
    """Tag a PNG with its print resolution (a pHYs chunk) so Word sizes it in centimetres."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        return png
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr_end = 8 + 8 + 13 + 4
    rest = png[ihdr_end:]
    pos = rest.find(b"pHYs")
    if 0 <= pos < 64:   # already tagged: drop the old chunk
        start = pos - 4
        rest = rest[:start] + rest[start + 8 + 9 + 4:]
    return png[:ihdr_end] + chunk + rest


def file_name(stem: str, fmt: str) -> str:
    """A safe download name: letters, digits, CJK, - and _ only."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem).strip("_") or "chart"
    return f"{safe[:80]}.{fmt}"
