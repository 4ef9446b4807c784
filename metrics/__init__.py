"""Rural Revitalization Target Tracker — the domain core.

Importable without Streamlit: catalog, regions, snapshot store, progress method,
demo data, command line (``python -m metrics``).
"""

__version__ = "0.1.0"
