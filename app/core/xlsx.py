"""XLSX exports (openpyxl, write-only mode so large sheets stream from memory cheaply)."""

from __future__ import annotations

import io
from typing import Iterable, Sequence

from litestar import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from app.core.forms import strip_control


def _safe_cell(value):
    """No formula injection: text a user typed (customer name, description, void reason) that starts
    like a formula is written as text, with a leading apostrophe (as customers/importer.py does)."""
    if isinstance(value, str):
        value = strip_control(value)  # a stored control character must never break a whole export (#11)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
    return value


def workbook(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for h in header:
            cell = WriteOnlyCell(ws, value=str(h))
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        for row in rows:
            ws.append([_safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(filename: str, data: bytes) -> Response:
    return Response(content=data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
