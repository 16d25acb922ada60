"""Finance reports as data (``ReportTable``) and their CSV, XLSX and PDF renderings, whose totals agree."""
