"""UI strings of metrics.ingest, merged into metrics.i18n.TEXT: key -> (中文, English).

Imports nothing from the project (i18n imports this module).
"""

TEXT: dict[str, tuple[str, str]] = {}
