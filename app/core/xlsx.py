"""XLSX exports, written by a small streamed writer (issue #12: money as numbers with a ¥ two-decimal format,
dates as dates; the devices export took 1.3–1.5 s).

openpyxl's write-only mode spends almost all of an export serialising cells one element at a time (no lxml
here). This writes each sheet's XML straight into the zip, row by row, typed by value:

* `Decimal` is money: a number cell with the ¥ two-decimal format (`"¥"#,##0.00`) — never text;
* `date` is a real date (yyyy-mm-dd), `datetime` a date and time in the office's time zone (aware
  timestamps are converted, naive ones taken as local); a text that is exactly an ISO date or timestamp
  (SQLite hands dates back as text) is written as one too;
* other numbers are numbers, booleans booleans;
* text: control characters stripped (`strip_control`, #11.4), characters XML cannot hold dropped, and text
  that starts like a formula (= + - @, tab, CR) prefixed with an apostrophe; always an inline string, never
  a formula;
* a bold header row, frozen while scrolling; optional column widths.

`workbook([(title, header, rows), …])` → bytes; a sheet tuple may carry a fourth item, the column widths.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from typing import Any, Iterable, Sequence
from xml.sax.saxutils import escape

from litestar import Response

from app.core.forms import strip_control

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NOT_XML = re.compile("[\ufffe\uffff]")
_EPOCH = dt.datetime(1899, 12, 30)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")

# style ids in STYLES' cellXfs
GENERAL, DATE, MONEY, DATETIME, HEADER = 0, 1, 2, 3, 4
MONEY_FORMAT = '"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    f'<numFmts count="3"><numFmt numFmtId="164" formatCode="{escape(MONEY_FORMAT, {chr(34): "&quot;"})}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATE_FORMAT}"/><numFmt numFmtId="166" formatCode="{DATETIME_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def safe_text(value: str) -> str:
    """Text as it goes into a cell: no control characters, nothing XML cannot hold, no formula start."""
    text = _NOT_XML.sub("", strip_control(value))
    return "'" + text if text[:1] in FORMULA_START else text


def _safe_cell(value: Any) -> Any:
    """Kept for callers that check a single value: text as `safe_text` writes it, anything else unchanged."""
    return safe_text(value) if isinstance(value, str) else value


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        from app.core.i18n import tz

        moment = moment.astimezone(tz())
    return moment.replace(tzinfo=None)


def _serial(moment: dt.datetime) -> float:
    delta = moment - _EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


def cell(ref: str, value: Any, style: int = GENERAL) -> str:
    """One `<c>` element, typed by the value (see the module docstring); "" for an empty cell."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Decimal):
        if not value.is_finite():
            return ""
        return f'<c r="{ref}" s="{MONEY}"><v>{value}</v></c>'
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return ""
        return f'<c r="{ref}"{_style(style)}><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime):
        return f'<c r="{ref}" s="{DATETIME}"><v>{_serial(_local(value))!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    text = str(value)
    if style == GENERAL and len(text) <= 32:
        if _ISO_DATE.match(text):
            try:
                return cell(ref, dt.date.fromisoformat(text))
            except ValueError:
                pass
        elif _ISO_DATETIME.match(text):
            try:
                return cell(ref, dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
            except ValueError:
                pass
    text = safe_text(text)
    if not text:
        return ""
    return f'<c r="{ref}" t="inlineStr"{_style(style)}><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _sheet_name(title: Any, taken: set[str]) -> str:
    name = _NOT_XML.sub("", strip_control(str(title))).translate(str.maketrans("", "", "[]:*?/\\"))[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _write_sheet(target, header: Sequence[Any], rows: Iterable[Sequence[Any]], widths: Sequence[int]) -> None:
    letters = [column_letter(i) for i in range(max(len(header), 1))]
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths))
    target.write((
        _XML + f'<worksheet xmlns="{_MAIN}">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews>'
        + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>").encode())
    head = "".join(cell(f"{letters[i]}1", str(h), HEADER) for i, h in enumerate(header))
    target.write(f'<row r="1">{head}</row>'.encode())
    chunk: list[str] = []
    for number, row in enumerate(rows, start=2):
        while len(letters) < len(row):
            letters.append(column_letter(len(letters)))
        cells = "".join(cell(f"{letters[i]}{number}", v) for i, v in enumerate(row))
        chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) >= 500:
            target.write("".join(chunk).encode())
            chunk = []
    target.write(("".join(chunk) + "</sheetData></worksheet>").encode())


def workbook(sheets: Iterable[Sequence[Any]]) -> bytes:
    """XLSX bytes: one worksheet per `(title, header, rows[, widths])`, rows written as they are iterated."""
    out = io.BytesIO()
    names: list[str] = []
    taken: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=5) as archive:
        for index, sheet in enumerate(sheets, start=1):
            title, header, rows = sheet[0], sheet[1], sheet[2]
            widths = sheet[3] if len(sheet) > 3 else ()
            names.append(_sheet_name(title, taken))
            with archive.open(f"xl/worksheets/sheet{index}.xml", "w") as target:
                _write_sheet(target, header, rows, widths or ())
        if not names:  # a workbook needs one sheet
            names.append("Sheet")
            with archive.open("xl/worksheets/sheet1.xml", "w") as target:
                _write_sheet(target, [], [], ())
        sheet_types = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(names) + 1))
        archive.writestr("[Content_Types].xml", (
            _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + sheet_types +
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            _XML + f'<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(names) + 1))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            _XML + f'<Relationships xmlns="{_PKG_REL}">' + rels
            + f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
        archive.writestr("xl/styles.xml", STYLES)
        entries = "".join(f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                          for i, name in enumerate(names, start=1))
        archive.writestr("xl/workbook.xml", (
            _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>'))
    return out.getvalue()


def xlsx_response(filename: str, data: bytes) -> Response:
    return Response(content=data, media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
