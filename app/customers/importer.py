"""Import customers and devices from CSV / XLSX (preview, row errors, all-or-nothing commit)
and export lists to XLSX.

Flow: upload → `preview()` parses and validates every row (nothing written) and keeps the
parsed rows in `var/uploads/imports/<random>.json` for the user who uploaded; `commit()`
validates again and writes every row in ONE transaction — one bad row and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Iterable

from app.core.audit.services import Actor, record
from app.customers import services as svc
from app.customers import sheet
from app.customers.documents import upload_root
from app.core.db import fetch, is_unique_violation, write_transaction
from app.core.errors import DomainError
from app.core.forms import FieldError, clean_text
from app.core.i18n import _

MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024
MAX_FIELD_CHARS = 10000  # the longest text any column maps to (notes); a longer cell is a row error
MULTILINE = {"notes"}  # tab and newline allowed only here (issue #11.4)

COLUMNS = {
    "customers": {
        "name": ("name", "客户名称", "名称", "客户"),
        "customer_class": ("class", "customer_class", "客户类别", "类别"),
        "office": ("office", "服务网点", "网点", "办事处"),
        "address": ("address", "地址"),
        "area": ("area", "区域"),
        "distance_km": ("distance_km", "distance", "距离", "距离(km)", "距离（km）", "距离km"),
        "phone": ("phone", "电话"),
        "contact_name": ("contact_name", "contact", "联系人"),
        "contact_phone": ("contact_phone", "联系电话", "联系人电话"),
        "contact_role": ("contact_role", "职务", "联系人职务"),
        "notes": ("notes", "备注"),
    },
    "devices": {
        "serial": ("serial", "序列号", "sn"),
        "brand": ("brand", "品牌"),
        "product_name": ("product_name", "product", "产品名称", "设备名称"),
        "model": ("model", "型号"),
        "system": ("system", "系统"),
        "kind": ("kind", "报价类别", "设备类别"),
        "capacity": ("capacity", "容量", "端口数/功率"),
        "customer": ("customer", "客户", "客户名称"),
        "contract": ("contract", "合同号", "合同编号"),
        "site": ("site", "安装位置", "位置"),
        "install_date": ("install_date", "安装日期"),
        "acceptance_date": ("acceptance_date", "验收日期"),
        "warranty_months": ("warranty_months", "保修月数", "保修期(月)"),
        "notes": ("notes", "备注"),
    },
}
# the column a row error names: the Chinese header of the template (its second alias)
COLUMNS_TITLE = {name: (aliases[1] if len(aliases) > 1 else aliases[0])
                 for columns in COLUMNS.values() for name, aliases in columns.items()}
REQUIRED = {"customers": ("name", "office"), "devices": ("serial", "customer")}
CLASS_WORDS = {"key": "key", "大客户": "key", "月结": "key", "retail": "retail", "零散": "retail", "零散客户": "retail"}
AREA_WORDS = {"city": "city", "市区": "city", "城区": "city", "suburb": "suburb", "郊区": "suburb", "郊县": "suburb"}
SYSTEM_WORDS = {"监控": "cctv", "监控系统": "cctv", "防盗报警": "intrusion", "报警": "intrusion", "网络": "network",
                "电话": "telephone", "程控": "telephone", "广播": "broadcast", "一卡通": "onecard", "门禁": "onecard",
                "其他": "other"}


@dataclass
class RowResult:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)


@dataclass
class Preview:
    kind: str
    rows: list[RowResult]
    token: str = ""
    file_error: str = ""

    @property
    def error_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_error and bool(self.rows) and not self.error_rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """CSV (UTF-8 with or without BOM, or GB18030) or XLSX (first sheet) → rows of strings."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the user's file problem
            raise DomainError(_("The XLSX file could not be read.")) from exc
        sheet = workbook.worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        return rows
    if name.endswith(".csv") or name.endswith(".txt"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DomainError(_("The CSV file is neither UTF-8 nor GB18030 text."))
        # csv refuses a field over 131,072 characters by raising mid-file (a 500 before #11.9): read
        # fields up to the file size limit and let _row_errors() refuse the long cell as a row error
        previous = csv.field_size_limit(MAX_BYTES + 1)
        try:
            return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
        except csv.Error as exc:
            raise DomainError(_("The CSV file could not be read.")) from exc
        finally:
            csv.field_size_limit(previous)
    raise DomainError(_("Upload a .csv or .xlsx file."))


def map_header(kind: str, header: list[str]) -> tuple[dict[str, int], list[str]]:
    aliases = COLUMNS[kind]
    mapping: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for field_name, names in aliases.items():
            if key in [n.lower() for n in names] and field_name not in mapping:
                mapping[field_name] = index
    missing = [f for f in REQUIRED[kind] if f not in mapping]
    return mapping, missing


def rows_as_dicts(kind: str, table: list[list[str]]) -> list[dict[str, str]]:
    table = [row for row in table if any(cell for cell in row)]
    if not table:
        raise DomainError(_("The file is empty."))
    mapping, missing = map_header(kind, table[0])
    if missing:
        raise DomainError(_("Missing columns: %(cols)s.", cols=", ".join(missing)))
    if len(table) - 1 > MAX_ROWS:
        raise DomainError(_("At most %(n)s rows per import.", n=MAX_ROWS))
    out = []
    for row in table[1:]:
        out.append({name: (row[i] if i < len(row) else "") for name, i in mapping.items()})
    return out


async def _lookups(kind: str) -> dict:
    offices = await fetch("SELECT id, code, name FROM service_office")
    office_by = {}
    for o in offices:
        office_by[o["code"].lower()] = o["id"]
        office_by[o["name"].lower()] = o["id"]
    return {"office": office_by}


async def _customer_ids(names: Iterable[str]) -> dict[str, int | None]:
    """Customer name (or #id) → id; None when the name is ambiguous."""
    result: dict[str, int | None] = {}
    for name in set(n for n in names if n):
        if name.startswith("#") and name[1:].isdigit():
            rows = await fetch("SELECT id FROM customer WHERE id = {}", int(name[1:]))
        else:
            rows = await fetch("SELECT id FROM customer WHERE name = {} LIMIT 2", name)
        if len(rows) == 1:
            result[name] = rows[0]["id"]
        elif len(rows) > 1:
            result[name] = None
    return result


def _customer_input(values: dict[str, str], offices: dict) -> tuple[svc.CustomerInput, list[str]]:
    errors = []
    cls = CLASS_WORDS.get(values.get("customer_class", "").strip().lower() or "retail")
    if cls is None:
        errors.append(_("Class must be 大客户/key or 零散/retail."))
    area = AREA_WORDS.get(values.get("area", "").strip().lower() or "city")
    if area is None:
        errors.append(_("Area must be 市区/city or 郊区/suburb."))
    office_id = offices.get(values.get("office", "").strip().lower())
    if office_id is None:
        errors.append(_("Unknown service office %(office)s.", office=values.get("office", "")))
    contacts = []
    if values.get("contact_name") or values.get("contact_phone"):
        contacts.append(svc.ContactInput(name=values.get("contact_name", ""), phone=values.get("contact_phone", ""),
                                         role=values.get("contact_role", "")))
    data = svc.CustomerInput(name=values.get("name", ""), customer_class=cls or "retail", office_id=str(office_id or ""),
                             address=values.get("address", ""), area=area or "city",
                             distance_km=values.get("distance_km", "") or "0", phone=values.get("phone", ""),
                             notes=values.get("notes", ""), contacts=contacts)
    field_errors = data.clean()
    field_errors.pop("office_id", None)
    errors += list(field_errors.values())
    return data, errors


def _row_errors(values: dict[str, str]) -> list[str]:
    """Issue #11.4/#11.9: every cell is plain text of a sane length (tab and newline only in notes)."""
    errors = []
    for name, value in values.items():
        title = COLUMNS_TITLE.get(name, name)
        if len(str(value)) > MAX_FIELD_CHARS:
            errors.append(_("Column %(col)s is longer than %(n)s characters.", col=title, n=MAX_FIELD_CHARS))
            continue
        try:
            clean_text(value, multiline=name in MULTILINE)
        except FieldError:
            errors.append(_("Column %(col)s contains control characters; type plain text.", col=title))
    return errors


async def _validate(kind: str, rows: list[dict[str, str]]) -> list[RowResult]:
    results = []
    lookups = await _lookups(kind)
    if kind == "customers":
        for line, values in enumerate(rows, start=2):
            errors = _row_errors(values)
            if not errors:
                _data, errors = _customer_input(values, lookups["office"])
            results.append(RowResult(line=line, values=values, errors=errors))
        return results
    customers = await _customer_ids(v.get("customer", "").strip() for v in rows)
    contracts = {r["number"]: (r["id"], r["customer_id"]) for r in await fetch(
        "SELECT id, number, customer_id FROM contract")} if any(v.get("contract") for v in rows) else {}
    serials = [svc.normalize_serial(v.get("serial", "")) for v in rows]
    existing: set[str] = set()
    unique_serials = sorted(set(s for s in serials if s))
    for start in range(0, len(unique_serials), 500):
        chunk = unique_serials[start:start + 500]
        marks = ", ".join("{}" for _ in chunk)
        existing |= {r["serial"] for r in await fetch(f"SELECT serial FROM device WHERE serial IN ({marks})", *chunk)}
    seen: dict[str, int] = {}
    for line, values in enumerate(rows, start=2):
        cell_errors = _row_errors(values)
        if cell_errors:
            results.append(RowResult(line=line, values=values, errors=cell_errors))
            continue
        data, errors = _device_input(values, customers, contracts)
        serial = data.serial
        if serial in existing:
            errors.append(_("A device with serial %(serial)s is already registered.", serial=serial))
        if serial and serial in seen:
            errors.append(_("Serial %(serial)s appears twice in the file (line %(line)s).", serial=serial, line=seen[serial]))
        seen.setdefault(serial, line)
        results.append(RowResult(line=line, values=values, errors=errors))
    return results


def _device_input(values: dict[str, str], customers: dict, contracts: dict) -> tuple[svc.DeviceInput, list[str]]:
    errors = []
    name = values.get("customer", "").strip()
    customer_id = customers.get(name)
    if name not in customers:
        errors.append(_("Unknown customer %(name)s.", name=name))
    elif customer_id is None:
        errors.append(_("Several customers are called %(name)s; use #id.", name=name))
    contract_id = ""
    number = values.get("contract", "").strip()
    if number:
        found = contracts.get(number)
        if not found or found[1] != customer_id:
            errors.append(_("Contract %(number)s is not one of this customer's.", number=number))
        else:
            contract_id = str(found[0])
    system = values.get("system", "").strip()
    system = SYSTEM_WORDS.get(system, system.lower() or "other")
    data = svc.DeviceInput(serial=values.get("serial", ""), brand=values.get("brand", ""),
                           product_name=values.get("product_name", ""), model=values.get("model", ""), system=system,
                           kind=values.get("kind", ""), capacity=values.get("capacity", ""),
                           customer_id=str(customer_id or ""), contract_id=contract_id, site=values.get("site", ""),
                           install_date=values.get("install_date", ""), acceptance_date=values.get("acceptance_date", ""),
                           warranty_months=values.get("warranty_months", ""), notes=values.get("notes", ""))
    field_errors = data.clean()
    field_errors.pop("customer_id", None)
    errors += list(field_errors.values())
    return data, errors


def _store_path(token: str):
    path = upload_root() / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{token}.json"


async def preview(actor: Actor, kind: str, filename: str, data: bytes) -> Preview:
    """Parse and validate; nothing is written to the database."""
    if kind not in COLUMNS:
        raise DomainError(_("Choose what to import."))
    if not data:
        return Preview(kind=kind, rows=[], file_error=_("Choose a file to upload."))
    if len(data) > MAX_BYTES:
        return Preview(kind=kind, rows=[], file_error=_("The file is larger than %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024)))
    try:
        rows = rows_as_dicts(kind, read_table(filename, data))
    except DomainError as exc:
        return Preview(kind=kind, rows=[], file_error=exc.message)
    results = await _validate(kind, rows)
    result = Preview(kind=kind, rows=results)
    if result.ok:
        result.token = secrets.token_hex(16)
        _store_path(result.token).write_text(json.dumps({"user_id": actor.user_id, "kind": kind, "rows": rows},
                                                        ensure_ascii=False))
    return result


async def commit(actor: Actor, token: str) -> tuple[str, int]:
    """Write every previewed row in one transaction (all or nothing). Returns (kind, count)."""
    if not token.isalnum():
        raise DomainError(_("This import is no longer available; upload the file again."))
    path = _store_path(token)
    if not path.exists():
        raise DomainError(_("This import is no longer available; upload the file again."))
    stored = json.loads(path.read_text())
    if stored.get("user_id") != actor.user_id:
        raise DomainError(_("This import is no longer available; upload the file again."))
    kind, rows = stored["kind"], stored["rows"]
    results = await _validate(kind, rows)
    if any(r.errors for r in results):
        raise DomainError(_("Some rows are no longer valid; upload the file again to see why."))
    try:
        await _write_rows(actor, kind, rows)
    except Exception as exc:
        if is_unique_violation(exc):  # another import or desk registered a serial meanwhile
            raise DomainError(_("Some rows are no longer valid; upload the file again to see why.")) from exc
        raise
    path.unlink(missing_ok=True)
    return kind, len(rows)


async def _write_rows(actor: Actor, kind: str, rows: list[dict]) -> None:
    async with write_transaction():
        if kind == "customers":
            offices = (await _lookups(kind))["office"]
            for values in rows:
                data, _errors = _customer_input(values, offices)
                await svc.create_customer(actor, data)
        else:
            customers = await _customer_ids(v.get("customer", "").strip() for v in rows)
            contracts = {r["number"]: (r["id"], r["customer_id"]) for r in await fetch("SELECT id, number, customer_id FROM contract")}
            for values in rows:
                data, _errors = _device_input(values, customers, contracts)
                await svc.create_device(actor, data)
        await record(actor, f"import.{kind}", kind, "", after={"rows": len(rows)})


def template_csv(kind: str) -> bytes:
    header = [names[1] if len(names) > 1 else names[0] for names in COLUMNS[kind].values()]
    return ("\ufeff" + ",".join(header) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- export

def xlsx(title: str, header: list[str], rows: Iterable[list[Any]], widths: tuple[int, ...] = ()) -> bytes:
    """One sheet, streamed row by row (app.customers.sheet): every cell through `_safe_cell`'s rules,
    numbers as numbers, Decimal as ¥ money, dates as dates."""
    return sheet.xlsx(title, header, rows, widths)


FORMULA_START = sheet.FORMULA_START


def _safe_cell(value: Any) -> Any:
    """Every cell of an export (issue #11.4): control characters a stored row may still hold are
    dropped (one bad cell never breaks the file), and text starting like a formula — = + - @, or a
    tab or carriage return a spreadsheet skips before one — is prefixed with an apostrophe."""
    if isinstance(value, str):
        return sheet.safe_text(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


async def export_customers(flt: svc.CustomerFilter, limit: int = 50000) -> bytes:
    rows, after = [], None
    while len(rows) < limit:
        page, after = await svc.list_customers(flt, after=after, limit=1000)
        rows += page
        if not after:
            break
    header = [_("Customer name"), _("Class"), _("Service office"), _("Phone"), _("Contact"), _("Contact phone"), _("Address"),
              _("Distance (km)"), _("Devices"), _("Contracts")]
    return xlsx(_("Customers"), header, (
        [r["name"], str(svc.CLASSES.get(r["customer_class"], "")), r["office_name"], r["phone"], r["contact_name"] or "",
         r["contact_phone"] or "", r["address"], float(r["distance_km"] or 0), r["device_count"],
         ", ".join(str(svc.CONTRACT_TYPES[t]) for t in r["contract_types"])] for r in rows),
        widths=(30, 12, 14, 16, 10, 16, 32, 10, 8, 24))


async def export_devices(flt: svc.DeviceFilter, limit: int = 100000) -> bytes:
    """The device list as XLSX: one query (newest first, at most `limit` rows), written row by row."""
    rows, _cursor = await svc.list_devices(flt, limit=limit)
    header = [_("Serial"), _("Brand"), _("Product"), _("Model"), _("System type"), _("Customer"), _("Site"),
              _("Acceptance"), _("Warranty until"), _("Extensions")]
    systems = {code: str(label) for code, label in svc.SYSTEMS.items()}  # translated once, not per row
    return xlsx(_("Devices"), header, (
        [r["serial"], r["brand"], r["product_name"], r["model"], systems.get(r["system"], r["system"]),
         r["customer_name"], r["site"], svc.as_date(r["acceptance_date"]), svc.as_date(r["warranty_end"]),
         r["extension_events"]] for r in rows), widths=(24, 12, 16, 20, 12, 30, 16, 12, 12, 8))
