"""Export: charts (PNG/SVG/PDF via kaleido), tables (XLSX/CSV), the assessment report (DOCX/PDF)."""
