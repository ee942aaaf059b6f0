"""The customers exports' XLSX writer now lives in the shell (app/core/xlsx.py, issue #12): every export
writes money, dates and text the same way. Kept as a thin alias for the importer and its tests."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from app.core.xlsx import DATE, DATETIME, FORMULA_START, GENERAL, HEADER, MONEY, column_letter, safe_text, workbook

__all__ = ["DATE", "DATETIME", "FORMULA_START", "GENERAL", "HEADER", "MONEY", "column_letter", "safe_text", "xlsx"]


def xlsx(title: str, header: Sequence[Any], rows: Iterable[Sequence[Any]], widths: Sequence[int] = ()) -> bytes:
    """One sheet `title` with a bold, frozen header row and `rows`, as XLSX bytes (written row by row)."""
    return workbook([(title, header, rows, widths)])
