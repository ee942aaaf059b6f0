"""Issue #11 for customers: unvalidated text (#11.4), long CSV fields (#11.9), exports that never break."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from app.core.audit.services import Actor
from app.core.db import fetch
from app.customers import importer
from app.customers import services as svc
from seed.factories import make_user, unique
from tests.customers.factories import make_contract, make_customer, make_device, make_office

DESK = Actor(user_id=None, username="desk-test", roles=frozenset({"desk"}))


async def count(sql: str, *args) -> int:
    return int((await fetch(sql, *args))[0]["n"])


async def _importer_actor() -> Actor:
    return Actor(user_id=await make_user("desk"), username="imp", roles=frozenset({"desk"}))


async def _office_code() -> str:
    return (await fetch("SELECT code FROM service_office WHERE id = {}", await make_office()))[0]["code"]


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- the inputs behind every form, import and api call

@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\x7f", "\t", "\n", "\ud800"])
async def test_customer_input_refuses_control_characters_in_a_single_line_field(bad):
    """Customer name with NUL / BEL / ESC / DEL / tab / newline / a lone surrogate → field error, nothing written."""
    name = unique("控制符") + bad + "公司"
    data = svc.CustomerInput(name=name, office_id=str(await make_office()))
    assert "name" in data.clean()
    with pytest.raises(DomainError) as exc:
        await svc.create_customer(DESK, data)
    assert exc.value.status == 400 and "name" in exc.value.errors
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name LIKE {}", name[:-3] + "%") == 0


async def test_customer_input_notes_keep_tab_and_newline_but_refuse_nul():
    """Notes are multi-line: tab and newline stay; a NUL or BEL is still refused (also in a contact's fields)."""
    office = str(await make_office())
    ok = svc.CustomerInput(name=unique("多行"), office_id=office, notes="第一行\n\t第二行")
    assert ok.clean() == {}
    assert "notes" in svc.CustomerInput(name=unique("多行"), office_id=office, notes="a\x00b").clean()
    bad_contact = svc.CustomerInput(name=unique("联系人"), office_id=office,
                                    contacts=[svc.ContactInput(name="王\x08经理", phone="1")])
    assert "contacts" in bad_contact.clean()


@pytest.mark.parametrize("field", ["serial", "brand", "model", "site", "kind", "acceptance_date"])
async def test_device_input_refuses_control_characters(field):
    """Every text of a device (as another domain's api call or an import row would give it) refuses control characters."""
    cid = await make_customer()
    data = svc.DeviceInput(serial=unique("CTL").upper(), model="DS-1", customer_id=str(cid), system="cctv")
    setattr(data, field, (getattr(data, field) or "x") + "\x0b")
    with pytest.raises(DomainError) as exc:
        await svc.create_device(DESK, data)
    assert field in exc.value.errors


async def test_contract_and_office_inputs_refuse_control_characters():
    """A contract title with a vertical tab and an office name with ESC are field errors; multi-line notes are fine."""
    cid = await make_customer()
    contract = svc.ContractInput(title="维保\x0b合同", start_date="2026-01-01", end_date="2026-12-31")
    assert "title" in contract.clean()
    contract = svc.ContractInput(title="维保合同", start_date="2026-01-01", end_date="2026-12-31", notes="甲\n乙\t丙")
    assert contract.clean() == {}
    assert "name" in svc.OfficeInput(code="X1", name="网点\x1b").clean()
    with pytest.raises(DomainError):
        await svc.create_contract(DESK, cid, svc.ContractInput(title="\x00", start_date="2026-01-01",
                                                               end_date="2026-12-31"))
    assert await count("SELECT COUNT(*) AS n FROM contract WHERE customer_id = {}", cid) == 0


# ---------------------------------------------------------------- HTTP: forms and filters

async def test_device_form_and_filters_refuse_or_drop_control_characters(login_as):
    """The device form refuses ESC in the model (400, nothing written); a NUL in a search box is dropped, never a 500."""
    cid = await make_customer()
    client = await login_as("desk")
    serial = unique("HTTPCTL").upper()
    response = await client.post_form("/devices/new", {"serial": serial, "model": "DS\x1b[31m", "customer_id": cid,
                                                       "system": "cctv"})
    assert response.status_code == 400
    assert await count("SELECT COUNT(*) AS n FROM device WHERE serial = {}", serial) == 0
    for url in ("/customers", "/devices", "/customers/pick", "/devices/lookup", "/customers/export.xlsx",
                "/devices/export.xlsx", "/devices/new"):
        page = await client.get(url, params={"q": "a\x00b", "serial": "S\x00N", "cls": "\x00", "system": "\x00"})
        assert page.status_code == 200, url


# ---------------------------------------------------------------- the importer

@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\t"])
async def test_import_csv_control_character_is_a_row_error_nothing_imported(bad):
    """A control character inside any cell (a tab too: name and office are one line; surrounding blanks are trimmed) → that row's error, no token, nothing written."""
    actor = await _importer_actor()
    office = await _office_code()
    tag = unique("导入控制")
    data = f"客户名称,服务网点,备注\n{tag}甲,{office},好\n{tag}乙{bad}X,{office},好\n{tag}丙,{office[:1]}{bad}{office[1:]},好\n".encode()
    preview = await importer.preview(actor, "customers", "c.csv", data)
    assert not preview.ok and not preview.token
    assert [r.line for r in preview.error_rows] == [3, 4]
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name LIKE {}", f"{tag}%") == 0


async def test_import_notes_may_hold_newlines_and_tabs():
    """Notes are multi-line in the import as on the form: a quoted newline and a tab are accepted."""
    actor = await _importer_actor()
    office = await _office_code()
    tag = unique("导入备注")
    data = f'客户名称,服务网点,备注\n{tag},{office},"第一行\n第二行\t尾"\n'.encode()
    preview = await importer.preview(actor, "customers", "c.csv", data)
    assert preview.ok, [r.errors for r in preview.rows]


async def test_import_xlsx_tab_in_a_name_and_escape_in_a_serial_are_row_errors():
    """XLSX rows: a tab inside a customer name, a newline in a device serial → row errors, nothing written."""
    actor = await _importer_actor()
    office = await _office_code()
    tag = unique("表格控制")
    preview = await importer.preview(actor, "customers", "c.xlsx",
                                     _xlsx([["客户名称", "服务网点"], [f"{tag}\t甲", office], [f"{tag}乙", office]]))
    assert [r.line for r in preview.error_rows] == [2] and not preview.token
    cid = await make_customer()
    name = (await svc.get_customer(cid))["name"]
    serial = unique("XL").upper()
    preview = await importer.preview(actor, "devices", "d.xlsx",
                                     _xlsx([["序列号", "客户", "型号"], [serial + "\nX", name, "DS-1"]]))
    assert [r.line for r in preview.error_rows] == [2] and not preview.token
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name LIKE {}", f"{tag}%") == 0


@pytest.mark.parametrize("size", [131_073, 300_000])
async def test_import_csv_field_over_131072_characters_is_a_row_error(size):
    """csv's own 131,072-character field limit used to raise mid-file (500): now the long cell is a row error."""
    actor = await _importer_actor()
    office = await _office_code()
    tag = unique("超长")
    data = f"客户名称,服务网点,备注\n{tag}甲,{office},短\n{tag}乙,{office},{'长' * size}\n".encode()
    preview = await importer.preview(actor, "customers", "c.csv", data)
    assert not preview.file_error
    assert [r.line for r in preview.error_rows] == [3] and not preview.token
    assert "10000" in " ".join(preview.error_rows[0].errors)


async def test_import_csv_field_at_the_limit_passes_the_cell_check():
    """Exactly MAX_FIELD_CHARS characters in notes is not a length error (the boundary)."""
    actor = await _importer_actor()
    office = await _office_code()
    data = f"客户名称,服务网点,备注\n{unique('边界')},{office},{'字' * importer.MAX_FIELD_CHARS}\n".encode()
    preview = await importer.preview(actor, "customers", "c.csv", data)
    assert preview.ok, [r.errors for r in preview.rows]


async def test_import_huge_csv_field_over_http_is_400_not_500(login_as):
    """The same over HTTP: 400 with the row error, nothing written."""
    office = await _office_code()
    client = await login_as("desk", lang="en")
    tag = unique("HTTP超长")
    body = f"客户名称,服务网点,备注\n{tag},{office},{'x' * 140_000}\n".encode()
    response = await client.post("/customers/import", data={"kind": "customers"},
                                 files={"file": ("c.csv", body, "text/csv")}, headers={"x-csrftoken": await client.csrf()})
    assert response.status_code == 400 and "longer than" in response.text
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name LIKE {}", f"{tag}%") == 0


# ---------------------------------------------------------------- exports never break

def _sheet(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))


async def test_export_strips_control_characters_a_stored_row_still_holds(login_as):
    """A name stored before validation (BEL, ESC, vertical tab) no longer breaks /customers/export.xlsx or the
    devices export: the cells are written without them."""
    tag = unique("旧数据")
    cid = await make_customer(tag + "甲")
    did = await make_device(cid)
    await fetch("UPDATE customer SET name = {} WHERE id = {}", f"{tag}\x07甲\x1b", cid)
    await fetch("UPDATE device SET site = {}, model = {} WHERE id = {}", "大门\x0b", "DS\x01", did)
    client = await login_as("desk")
    customers = await client.get("/customers/export.xlsx", params={"q": tag})
    assert customers.status_code == 200
    assert [r[0] for r in _sheet(customers.content)[1:]] == [f"{tag}甲"]
    devices = await client.get("/devices/export.xlsx", params={"customer": cid})
    assert devices.status_code == 200
    row = _sheet(devices.content)[1]
    assert "大门" in row and "DS" in row


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t=", "\r="])
def test_export_formula_guard_covers_leading_tab_and_carriage_return(start):
    """Text starting like a formula — also after a tab or carriage return a spreadsheet skips — gets an apostrophe."""
    cell = importer._safe_cell(start + "HYPERLINK(\"http://x\")")
    assert cell.startswith("'")
    assert importer._safe_cell("普通文本") == "普通文本" and importer._safe_cell(12) == 12


async def test_export_formula_guard_in_the_file():
    """A customer named with a leading tab + formula (stored before validation) is exported as text."""
    tag = unique("公式")
    cid = await make_customer(tag)
    await fetch("UPDATE customer SET name = {} WHERE id = {}", f"\t=1+1{tag}", cid)
    content = await importer.export_customers(svc.CustomerFilter(q=tag))
    assert _sheet(content)[1][0] == f"'\t=1+1{tag}"
    await make_contract(cid)


# ---------------------------------------------------------------- uploads: polyglots (#11.10)

import struct  # noqa: E402
import zlib  # noqa: E402

from app.customers import documents as docs  # noqa: E402
from app.core.errors import DomainError  # noqa: E402


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(*extra_chunks: bytes, trailer: bytes = b"") -> bytes:
    """A real 1×1 PNG (decodable: IHDR, one zlib IDAT row, IEND), with optional chunks before IDAT and bytes after IEND."""
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    idat = _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    return docs.PNG_SIGNATURE + ihdr + b"".join(extra_chunks) + idat + _chunk(b"IEND", b"") + trailer


def jpeg(*, comment: bytes = b"", trailer: bytes = b"") -> bytes:
    """A structurally complete baseline JPEG: SOI, APP0 JFIF, [COM], DQT, SOF0, DHT, SOS, entropy data, EOI."""
    def seg(marker: int, body: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body
    parts = [b"\xff\xd8", seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    if comment:
        parts.append(seg(0xFE, comment))
    parts += [seg(0xDB, b"\x00" + bytes(range(1, 65))), seg(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00"),
              seg(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"), seg(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
              b"\x12\xff\x00\x34\xff\xd0\x56", b"\xff\xd9"]
    return b"".join(parts) + trailer


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


async def test_upload_clean_png_and_jpeg_are_stored_rebuilt():
    """Real images are accepted; a PNG keeps only its image chunks (a tEXt note is dropped), a JPEG loses its comment."""
    cid = await make_customer()
    note = _chunk(b"tEXt", b"Comment\x00scanned on site")
    doc_id = await docs.save_document(DESK, cid, filename="现场.png", data=png(note))
    stored = docs.document_path(await docs.get_document(doc_id)).read_bytes()
    assert stored == png() and b"tEXt" not in stored
    doc_id = await docs.save_document(DESK, cid, filename="照片.jpg", data=jpeg(comment=b"camera 1"))
    stored = docs.document_path(await docs.get_document(doc_id)).read_bytes()
    assert stored == jpeg() and stored.endswith(b"\xff\xd9")


@pytest.mark.parametrize("filename,data", [
    ("poly.png", png(trailer=HTML)),                                          # PNG/HTML: HTML after IEND
    ("poly.png", png(_chunk(b"tEXt", b"x\x00" + HTML))),                      # HTML inside a text chunk
    ("poly.png", png(_chunk(b"zzZz", b"<SVG onload=alert(1)>"))),             # private chunk, upper case
    ("poly.jpg", jpeg(comment=b"<ScRiPt>alert(1)</script>")),                 # JPEG comment
    ("poly.jpg", jpeg(trailer=b"\n<html><body>hi")),                          # after EOI
    ("poly.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\n" + HTML + b"\n%%EOF"),      # PDF/HTML polyglot
    ("late.txt", b"plain notes\n" * 500 + b"<script>alert(1)</script>"),     # markup after 4 KB
    ("late.csv", b"a,b\n" + b"1,2\n" * 2000 + b"<IFRAME src=//x>"),
    ("utf16.txt", "<html>".encode("utf-16")),                                 # NUL bytes: not plain text
    ("broken.png", png()[:-5]),                                               # no IEND
    ("badcrc.png", png().replace(b"IEND\xaeB`\x82", b"IEND\x00\x00\x00\x00")),
    ("noeoi.jpg", jpeg()[:-2]),
])
async def test_upload_polyglots_and_broken_images_refused(filename, data):
    """Markup anywhere (any case, any position) or a malformed image → 400 at the file field, nothing stored."""
    cid = await make_customer()
    with pytest.raises(DomainError) as exc:
        await docs.save_document(DESK, cid, filename=filename, data=data)
    assert exc.value.status == 400 and "file" in exc.value.errors
    assert await docs.list_documents(cid) == []


async def test_upload_polyglot_over_http_400_and_txt_download_has_one_charset(login_as):
    """Over HTTP: the PNG/HTML polyglot is refused; a plain .txt downloads with exactly one charset parameter."""
    cid = await make_customer()
    client = await login_as("desk", lang="en")
    headers = {"x-csrftoken": await client.csrf()}
    refused = await client.post(f"/customers/{cid}/documents", data={"kind": "other"},
                                files={"file": ("site.png", png(trailer=HTML), "image/png")}, headers=headers)
    assert refused.status_code == 400 and "does not match" in refused.text
    ok = await client.post(f"/customers/{cid}/documents", data={"kind": "other"},
                           files={"file": ("清单.txt", "设备清单 1 台\n".encode(), "text/plain")}, headers=headers)
    assert ok.status_code == 303
    doc = (await fetch("SELECT id FROM customer_document WHERE customer_id = {}", cid))[0]
    download = await client.get(f"/documents/{doc['id']}/download")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/plain; charset=utf-8"


# ---------------------------------------------------------------- the stale-edit check cannot be switched off (#11.6)

BAD_VERSIONS = ["NaN", "", "2026-11-29", "1.0", "Infinity", "0", "99999999999999999999", None]


def _with_version(form: dict, version) -> dict:
    return {k: v for k, v in form.items() if k != "version"} if version is None else {**form, "version": version}


async def _audit_rows(entity_type: str, entity_id) -> int:
    return await count("SELECT COUNT(*) AS n FROM audit_event WHERE entity_type = {} AND entity_id = {}",
                       entity_type, str(entity_id))


@pytest.mark.parametrize("version", BAD_VERSIONS)
async def test_customer_edit_unreadable_version_400_nothing_changed(login_as, version):
    """version=NaN / empty / a date / missing … on the customer form → 400, the row and its audit unchanged."""
    cid = await make_customer()
    before = await svc.get_customer(cid)
    audits = await _audit_rows("customer", cid)
    client = await login_as("desk")
    form = {"name": before["name"] + "改", "office_id": before["office_id"], "customer_class": "retail", "area": "city",
            "distance_km": "1"}
    response = await client.post_form(f"/customers/{cid}/edit", _with_version(form, version))
    assert response.status_code == 400
    after = await svc.get_customer(cid)
    assert (after["name"], after["version"]) == (before["name"], before["version"])
    assert await _audit_rows("customer", cid) == audits


@pytest.mark.parametrize("version", BAD_VERSIONS)
async def test_contract_edit_and_stage_unreadable_version_400_nothing_changed(login_as, version):
    """The contract form and the stage button refuse an unreadable version: 400, title and stage unchanged."""
    kid = await make_contract(await make_customer())
    before = await svc.get_contract(kid)
    client = await login_as("desk")
    form = {"contract_type": "annual", "title": "改过的标题", "start_date": "2026-01-01", "end_date": "2026-12-31",
            "status": "active", "response_hours": "1", "onsite_hours_city": "2", "onsite_hours_suburb": "12",
            "warranty_months": "36", "tariff_policy": "standard", "amount": "0"}
    assert (await client.post_form(f"/contracts/{kid}/edit", _with_version(form, version))).status_code == 400
    assert (await client.post_form(f"/contracts/{kid}/stage", _with_version({"stage": "Y"}, version))).status_code == 400
    after = await svc.get_contract(kid)
    assert (after["title"], after["stage"], after["version"]) == (before["title"], before["stage"], before["version"])


@pytest.mark.parametrize("version", BAD_VERSIONS)
async def test_device_edit_unreadable_version_400_nothing_changed(login_as, version):
    """The device form refuses an unreadable version: 400, the site and version unchanged."""
    did = await make_device(await make_customer(), acceptance=dt.date(2024, 1, 1))
    before = await svc.get_device(did)
    client = await login_as("manager")
    form = {k: ("" if before[k] is None else str(before[k])) for k in ("serial", "brand", "product_name", "model",
                                                                      "system", "kind", "customer_id")}
    form["site"] = "改过的位置"
    assert (await client.post_form(f"/devices/{did}/edit", _with_version(form, version))).status_code == 400
    after = await svc.get_device(did)
    assert (after["site"], after["version"]) == (before["site"], before["version"])


@pytest.mark.parametrize("version", BAD_VERSIONS)
async def test_price_tier_edit_unreadable_version_400_nothing_changed(login_as, version):
    """The price-list form (admin) refuses an unreadable version: 400, price and version unchanged."""
    from app.customers import pricing

    tier = (await pricing.price_list())[0].tiers[0]
    before = (await fetch("SELECT price_fen, version FROM price_tier WHERE id = {}", tier.id))[0]
    client = await login_as("admin")
    form = {"price": str(tier.price + 1), "min_value": str(tier.min_value), "note": tier.note}
    assert (await client.post_form(f"/price-list/{tier.id}", _with_version(form, version))).status_code == 400
    assert (await fetch("SELECT price_fen, version FROM price_tier WHERE id = {}", tier.id))[0] == before


async def test_stale_but_readable_version_is_409_and_current_version_saves(login_as):
    """The check itself: an old readable version → 409 with nothing saved; the current one saves."""
    cid = await make_customer()
    c = await svc.get_customer(cid)
    client = await login_as("desk")
    form = {"name": c["name"] + "新", "office_id": c["office_id"], "customer_class": "retail", "area": "city",
            "distance_km": "1", "version": c["version"]}
    assert (await client.post_form(f"/customers/{cid}/edit", form)).status_code == 303
    assert (await client.post_form(f"/customers/{cid}/edit", {**form, "name": c["name"] + "旧"})).status_code == 409
    assert (await svc.get_customer(cid))["name"] == c["name"] + "新"
