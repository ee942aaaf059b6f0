"""HTTP: every customers/devices page and action, refused roles, bad input (X-05)."""

import datetime as dt
import io

from app.customers import services as svc
from app.core.db import fetch
from app.core.settings import set_setting
from seed.factories import unique
from tests.customers.factories import make_contract, make_customer, make_device, make_office

TODAY = svc.today()


async def count(sql: str, *args) -> int:
    return int((await fetch(sql, *args))[0]["n"])


# ---------------------------------------------------------------- customers

async def test_customer_list_search_and_fragment(login_as):
    """Field technicians read the list; the search box answers a fragment for HTMX."""
    tag = unique("列表")
    cid = await make_customer(f"{tag}医院")
    client = await login_as("field")
    page = await client.get("/customers", params={"q": tag})
    assert page.status_code == 200 and f"{tag}医院" in page.text and "<html" in page.text
    fragment = await client.get("/customers", params={"q": tag}, headers={"hx-request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and f"/customers/{cid}" in fragment.text
    empty = await client.get("/customers", params={"q": "不存在的客户" + tag})
    assert "No customer matches" in empty.text or "没有" in empty.text


async def test_create_customer_desk(login_as):
    """Desk creates a customer with two contacts → redirect to its page."""
    office = await make_office()
    client = await login_as("desk")
    name = unique("新客户")
    response = await client.post_form("/customers/new", {
        "name": name, "customer_class": "key", "office_id": office, "address": "上海", "area": "suburb",
        "distance_km": "25", "phone": "021-1", "contact_name": ["周先生", "吴女士", ""],
        "contact_phone": ["1", "2", ""], "contact_role": ["主任", "", ""]})
    assert response.status_code == 303, response.text[:300]
    cid = int(response.headers["location"].rsplit("/", 1)[1])
    detail = await client.get(f"/customers/{cid}")
    assert detail.status_code == 200 and "周先生" in detail.text and "吴女士" in detail.text


async def test_create_customer_bad_input_400(login_as):
    """Negative distance / no name → 400 with the message next to the field, nothing written."""
    office = await make_office()
    client = await login_as("manager", lang="en")
    name = unique("负距离")
    response = await client.post_form("/customers/new", {"name": name, "office_id": office, "distance_km": "-3",
                                                         "customer_class": "retail", "area": "city"})
    assert response.status_code == 400
    assert 'id="e-distance_km"' in response.text and "cannot be negative" in response.text
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name = {}", name) == 0


async def test_create_customer_refused_for_field(login_as):
    """Field technicians only read: 403 and nothing written."""
    office = await make_office()
    client = await login_as("field")
    name = unique("禁止")
    assert (await client.get("/customers/new")).status_code == 403
    response = await client.post_form("/customers/new", {"name": name, "office_id": office})
    assert response.status_code == 403
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name = {}", name) == 0


async def test_edit_customer_and_stale_version(login_as):
    """Edit saves; a second post with the old version gets 409."""
    cid = await make_customer()
    c = await svc.get_customer(cid)
    client = await login_as("desk")
    assert (await client.get(f"/customers/{cid}/edit")).status_code == 200
    form = {"name": c["name"] + "改", "office_id": c["office_id"], "customer_class": "retail", "area": "city",
            "distance_km": "1", "version": c["version"]}
    assert (await client.post_form(f"/customers/{cid}/edit", form)).status_code == 303
    assert (await client.post_form(f"/customers/{cid}/edit", form)).status_code == 409
    assert (await svc.get_customer(cid))["name"] == c["name"] + "改"


async def test_customer_detail_404(login_as):
    """Unknown customer → 404."""
    client = await login_as("desk")
    assert (await client.get("/customers/999999999")).status_code == 404


async def test_customer_section_registry(login_as):
    """A later domain's section appears on the customer page for its roles only."""
    from app.core.sections import CUSTOMER_SECTIONS, CustomerSection, register_customer_section

    async def load(customer_id, user):
        return {"n": customer_id}

    register_customer_section(CustomerSection("test-tickets", "Tickets-section-test", "customers/_contract_badges.html",
                                              frozenset({"finance"}), load))
    try:
        cid = await make_customer()
        assert "Tickets-section-test" in (await (await login_as("finance")).get(f"/customers/{cid}")).text
        assert "Tickets-section-test" not in (await (await login_as("desk")).get(f"/customers/{cid}")).text
    finally:
        CUSTOMER_SECTIONS[:] = [s for s in CUSTOMER_SECTIONS if s.key != "test-tickets"]


# ---------------------------------------------------------------- contracts

async def test_contract_create_edit_stage(login_as):
    """Desk creates a contract, edits it, moves its stage; the page shows the history."""
    cid = await make_customer()
    client = await login_as("desk")
    assert (await client.get(f"/customers/{cid}/contracts/new")).status_code == 200
    form = {"contract_type": "annual", "title": "年度维保", "start_date": "2026-01-01", "end_date": "2026-12-31",
            "stage": "Q", "response_hours": "1", "onsite_hours_city": "2", "onsite_hours_suburb": "12",
            "warranty_months": "36", "tariff_policy": "annual_included", "amount": "12,000.00"}
    response = await client.post_form(f"/customers/{cid}/contracts/new", form)
    assert response.status_code == 303
    kid = int(response.headers["location"].rsplit("/", 1)[1])
    k = await svc.get_contract(kid)
    assert k["amount_fen"] == 1200000
    assert (await client.get(f"/contracts/{kid}/edit")).status_code == 200
    edit = dict(form, status="active", title="年度维保2", version=k["version"])
    assert (await client.post_form(f"/contracts/{kid}/edit", edit)).status_code == 303
    k = await svc.get_contract(kid)
    response = await client.post_form(f"/contracts/{kid}/stage", {"stage": "Y", "note": "已验收", "version": k["version"]})
    assert response.status_code == 303
    detail = await client.get(f"/contracts/{kid}")
    assert "已验收" in detail.text and "年度维保2" in detail.text
    stale = await client.post_form(f"/contracts/{kid}/stage", {"stage": "B", "version": k["version"]})
    assert stale.status_code == 303 and (await svc.get_contract(kid))["stage"] == "Y"


async def test_contract_end_before_start_400(login_as):
    """End before start → 400 with the message at the end date; nothing written."""
    cid = await make_customer()
    client = await login_as("manager")
    response = await client.post_form(f"/customers/{cid}/contracts/new", {
        "contract_type": "annual", "start_date": "2026-05-01", "end_date": "2026-04-01", "stage": "Q",
        "response_hours": "1", "onsite_hours_city": "2", "onsite_hours_suburb": "12", "warranty_months": "36",
        "tariff_policy": "standard", "amount": "0"})
    assert response.status_code == 400 and 'id="e-end_date"' in response.text
    assert await count("SELECT COUNT(*) AS n FROM contract WHERE customer_id = {}", cid) == 0


async def test_contract_refused_for_bench(login_as):
    """Bench reads contracts but cannot create or move them."""
    cid = await make_customer()
    kid = await make_contract(cid)
    client = await login_as("bench")
    assert (await client.get(f"/contracts/{kid}")).status_code == 200
    assert (await client.post_form(f"/contracts/{kid}/stage", {"stage": "Y"})).status_code == 403
    assert (await client.post_form(f"/customers/{cid}/contracts/new", {"contract_type": "annual"})).status_code == 403
    assert (await svc.get_contract(kid))["stage"] == "Q"


# ---------------------------------------------------------------- devices

async def test_device_create_duplicate_serial_400(login_as):
    """Registering a device works; the same serial again → 400 at the serial field, nothing written."""
    cid = await make_customer()
    client = await login_as("desk", lang="en")
    assert (await client.get("/devices/new")).status_code == 200
    assert (await client.get(f"/devices/new?customer_id={cid}")).status_code == 200
    serial = unique("HTTP").upper()
    form = {"serial": serial, "brand": "海康威视", "product_name": "网络摄像机", "model": "DS-2CD2T47G2-L", "system": "cctv",
            "kind": "camera", "customer_id": cid, "acceptance_date": "2025-01-10"}
    response = await client.post_form("/devices/new", form)
    assert response.status_code == 303
    again = await client.post_form("/devices/new", dict(form, serial=serial.lower()))
    assert again.status_code == 400 and 'id="e-serial"' in again.text and "already registered" in again.text
    assert await count("SELECT COUNT(*) AS n FROM device WHERE serial = {}", serial) == 1


async def test_device_page_warranty_explanation_and_events(login_as):
    """Device page explains the warranty; a field tech records an unresolvable failure (+60 days)."""
    cid = await make_customer()
    did = await make_device(cid, acceptance=dt.date(2024, 3, 2))
    client = await login_as("field", lang="en")
    page = await client.get(f"/devices/{did}")
    assert page.status_code == 200 and "36 months from 2024-03-02" in page.text
    response = await client.post_form(f"/devices/{did}/events", {"event_type": "failure", "fault_code": "no-video",
                                                                  "unresolvable": "1", "occurred_on": "2024-05-01"})
    assert response.status_code == 303
    page = await client.get(f"/devices/{did}")
    # the fault shows by its catalogue name (X-04: codes like NO-VIDEO stay in reports, not on pages)
    assert "36 months from 2024-03-02 + 1 × 60 days" in page.text and "No video" in page.text
    bad = await client.post_form(f"/devices/{did}/events", {"event_type": "failure", "fault_code": ""})
    assert bad.status_code == 400 and 'is-invalid' in bad.text
    assert len(await svc.device_events(did)) == 1


async def test_device_events_refused_for_warehouse(login_as):
    """Warehouse reads devices but does not record failures."""
    did = await make_device(await make_customer(), acceptance=TODAY)
    client = await login_as("warehouse")
    assert (await client.get(f"/devices/{did}")).status_code == 200
    assert (await client.post_form(f"/devices/{did}/events", {"event_type": "failure", "fault_code": "X"})).status_code == 403
    assert await svc.device_events(did) == []


async def test_device_edit(login_as):
    """Desk edits a device's acceptance date; warranty is recomputed."""
    cid = await make_customer()
    did = await make_device(cid, acceptance=dt.date(2024, 1, 1))
    d = await svc.get_device(did)
    client = await login_as("desk")
    assert (await client.get(f"/devices/{did}/edit")).status_code == 200
    form = {k: ("" if d[k] is None else str(d[k])) for k in ("serial", "brand", "product_name", "model", "system", "kind",
                                                                 "site", "customer_id")}
    form.update(acceptance_date="2025-01-01", version=d["version"])
    assert (await client.post_form(f"/devices/{did}/edit", form)).status_code == 303
    assert (await svc.warranty_status(did)).end == dt.date(2028, 1, 1)


async def test_device_list_filters_and_lookup_fragment(login_as):
    """List filters by customer and warranty; lookup answers a fragment with in/expired and why."""
    cid = await make_customer()
    fresh = await make_device(cid, acceptance=TODAY - dt.timedelta(days=5))
    old = await make_device(cid, acceptance=dt.date(2015, 1, 1))
    client = await login_as("qc", lang="en")
    page = await client.get("/devices", params={"customer": cid, "warranty": "expired"})
    assert page.status_code == 200
    assert f"/devices/{old}\"" in page.text and f"/devices/{fresh}\"" not in page.text
    serial = (await svc.get_device(fresh))["serial"]
    fragment = await client.get("/devices/lookup", params={"serial": serial.lower()}, headers={"hx-request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "In warranty until" in fragment.text
    old_serial = (await svc.get_device(old))["serial"]
    fragment = await client.get("/devices/lookup", params={"serial": old_serial}, headers={"hx-request": "true"})
    assert "Warranty expired on 2018-01-01" in fragment.text
    missing = await client.get("/devices/lookup", params={"serial": "NOPE-" + unique("x")}, headers={"hx-request": "true"})
    assert "No device with serial" in missing.text
    full = await client.get("/devices/lookup", params={"serial": serial})
    assert "<html" in full.text


async def test_exports_are_xlsx_attachments(login_as):
    """Desk exports customers and devices as XLSX attachments; bench may not export."""
    await make_customer()
    client = await login_as("desk")
    for url in ("/customers/export.xlsx", "/devices/export.xlsx"):
        response = await client.get(url)
        assert response.status_code == 200 and response.content[:2] == b"PK"
        assert "attachment" in response.headers["content-disposition"]
    assert (await (await login_as("bench")).get("/customers/export.xlsx")).status_code == 403


# ---------------------------------------------------------------- renewals

async def test_renewals_page_notice_and_letter(login_as):
    """Desk sees a contract ending soon, prints the letter, marks the notice sent once."""
    cid = await make_customer(unique("续约"))
    kid = await make_contract(cid, "annual", start=TODAY - dt.timedelta(days=300), end=TODAY + dt.timedelta(days=3))
    number = (await svc.get_contract(kid))["number"]
    client = await login_as("desk")
    page = await client.get("/renewals")
    assert page.status_code == 200 and number in page.text
    home = await client.get("/")
    assert "panel-renewals" in home.text
    letter = await client.get(f"/customers/{cid}/renewal-letter")
    assert letter.status_code == 200 and number in letter.text and "print-page" in letter.text
    form = {"kind": "contract", "subject_id": kid, "sent_on": TODAY.isoformat(), "method": "letter"}
    assert (await client.post_form("/renewals/notice", form)).status_code == 303
    assert (await client.post_form("/renewals/notice", form)).status_code == 303
    assert await count("SELECT COUNT(*) AS n FROM renewal_notice WHERE subject_type = 'contract' AND subject_id = {}", kid) == 1
    bad = await client.post_form("/renewals/notice", dict(form, method="pigeon"))
    assert bad.status_code == 400


async def test_renewals_refused_for_finance_and_settings_for_desk(login_as):
    """Finance does not see renewals; only manager/admin change the window."""
    assert (await (await login_as("finance")).get("/renewals")).status_code == 403
    desk = await login_as("desk")
    assert (await desk.post_form("/renewals/settings", {"days": "20"})).status_code == 403
    manager = await login_as("manager")
    assert (await manager.post_form("/renewals/settings", {"days": "0"})).status_code == 400
    assert (await manager.post_form("/renewals/settings", {"days": "10"})).status_code == 303


# ---------------------------------------------------------------- price list and quote

async def test_price_list_admin_edits_desk_reads(login_as):
    """Admin edits a tier (bad input → 400 at the field); desk reads but cannot post."""
    from app.customers import pricing

    tier = (await pricing.price_list())[0].tiers[0]
    desk = await login_as("desk")
    assert (await desk.get("/price-list")).status_code == 200
    assert (await desk.post_form(f"/price-list/{tier.id}", {"price": "1", "min_value": "1"})).status_code == 403
    admin = await login_as("admin")
    bad = await admin.post_form(f"/price-list/{tier.id}", {"price": "abc", "min_value": "1", "note": "", "version": tier.version})
    assert bad.status_code == 400 and "is-invalid" in bad.text
    ok = await admin.post_form(f"/price-list/{tier.id}", {"price": str(tier.price), "min_value": str(tier.min_value),
                                                          "note": tier.note, "version": tier.version})
    assert ok.status_code == 303


async def test_quote_page_and_print(login_as):
    """The quote counts devices per item; quantities are editable; the A4 print shows the total."""
    cid = await make_customer()
    for _ in range(2):
        await make_device(cid, kind="camera")
    client = await login_as("finance")
    page = await client.get(f"/customers/{cid}/quote")
    assert page.status_code == 200 and "300.00" in page.text
    printed = await client.get(f"/customers/{cid}/quote/print", params={"q_camera": "10", "q_switch": "6"})
    assert printed.status_code == 200 and "3,660.00" in printed.text
    bad = await client.get(f"/customers/{cid}/quote", params={"q_camera": "-1"})
    assert bad.status_code == 400
    assert (await (await login_as("bench")).get(f"/customers/{cid}/quote")).status_code == 403


# ---------------------------------------------------------------- documents

async def test_upload_download_as_attachment(login_as):
    """Desk uploads a PDF; any signed-in role downloads it as an attachment with nosniff; anonymous cannot."""
    cid = await make_customer()
    client = await login_as("desk")
    response = await client.post("/customers/%d/documents" % cid, data={"kind": "drawing", "title": "竣工图"},
                                 files={"file": ("竣工图.pdf", b"%PDF-1.7 drawing", "application/pdf")},
                                 headers={"x-csrftoken": await client.csrf()})
    assert response.status_code == 303, response.text[:300]
    doc = (await fetch("SELECT id FROM customer_document WHERE customer_id = {}", cid))[0]
    reader = await login_as("warehouse")
    download = await reader.get(f"/documents/{doc['id']}/download")
    assert download.status_code == 200 and download.content == b"%PDF-1.7 drawing"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith("application/pdf")
    assert (await reader.post_form(f"/documents/{doc['id']}/delete")).status_code == 403
    assert (await client.post_form(f"/documents/{doc['id']}/delete")).status_code == 303
    assert (await reader.get(f"/documents/{doc['id']}/download")).status_code == 404


async def test_upload_html_refused_and_anonymous_redirected(login_as, anon):
    """An HTML file is refused (400 at the file field, nothing stored); anonymous downloads go to login."""
    cid = await make_customer()
    client = await login_as("manager", lang="en")
    response = await client.post(f"/customers/{cid}/documents", data={"kind": "other"},
                                 files={"file": ("evil.html", b"<html><script>alert(1)</script>", "text/html")},
                                 headers={"x-csrftoken": await client.csrf()})
    assert response.status_code == 400 and "not accepted" in response.text
    disguised = await client.post(f"/customers/{cid}/documents", data={"kind": "other"},
                                  files={"file": ("manual.pdf", b"<html>", "application/pdf")},
                                  headers={"x-csrftoken": await client.csrf()})
    assert disguised.status_code == 400
    assert await count("SELECT COUNT(*) AS n FROM customer_document WHERE customer_id = {}", cid) == 0
    doc_id = (await fetch("SELECT MAX(id) AS m FROM customer_document"))[0]["m"] or 1
    assert (await anon.get(f"/documents/{doc_id}/download")).status_code == 303


async def test_upload_oversize_refused(login_as):
    """A file over the configured limit → 400, nothing stored."""
    from app.core.audit.services import SYSTEM

    cid = await make_customer()
    await set_setting(SYSTEM, "customers.upload_max_mb", 1)
    try:
        client = await login_as("desk", lang="en")
        response = await client.post(f"/customers/{cid}/documents", data={"kind": "manual"},
                                     files={"file": ("big.pdf", b"%PDF-" + b"0" * (1024 * 1024 + 10), "application/pdf")},
                                     headers={"x-csrftoken": await client.csrf()})
        assert response.status_code == 400 and "larger than 1 MB" in response.text
    finally:
        await set_setting(SYSTEM, "customers.upload_max_mb", 20)
    assert await count("SELECT COUNT(*) AS n FROM customer_document WHERE customer_id = {}", cid) == 0


# ---------------------------------------------------------------- import

async def test_import_preview_and_commit_http(login_as):
    """Upload → preview with row errors (400, nothing written) → fixed file → commit writes all rows."""
    office = (await fetch("SELECT code FROM service_office WHERE id = {}", await make_office()))[0]["code"]
    client = await login_as("desk", lang="en")
    assert (await client.get("/customers/import")).status_code == 200
    template = await client.get("/customers/import/template.csv?kind=devices")
    assert template.status_code == 200 and "序列号" in template.content.decode("utf-8-sig")
    tag = unique("HTTP导入")
    bad = f"客户名称,服务网点,距离(km)\n{tag}1,{office},1\n{tag}2,没有的网点,1\n"
    response = await client.post("/customers/import", data={"kind": "customers"},
                                 files={"file": ("c.csv", bad.encode(), "text/csv")}, headers={"x-csrftoken": await client.csrf()})
    assert response.status_code == 400 and "Unknown service office" in response.text
    good = f"客户名称,服务网点,距离(km)\n{tag}1,{office},1\n{tag}2,{office},2\n"
    response = await client.post("/customers/import", data={"kind": "customers"},
                                 files={"file": ("c.csv", good.encode(), "text/csv")}, headers={"x-csrftoken": await client.csrf()})
    assert response.status_code == 200 and "ready to import" in response.text
    token = response.text.split('name="token" value="')[1].split('"')[0]
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name LIKE {}", f"{tag}%") == 0
    done = await client.post_form("/customers/import/commit", {"token": token, "kind": "customers"})
    assert done.status_code == 303
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name LIKE {}", f"{tag}%") == 2
    again = await client.post_form("/customers/import/commit", {"token": token})
    assert again.status_code == 400


async def test_import_refused_for_field(login_as):
    """Field technicians cannot import."""
    client = await login_as("field")
    assert (await client.get("/customers/import")).status_code == 403


# ---------------------------------------------------------------- service offices

async def test_offices_admin_create_update_and_refusals(login_as):
    """Manager adds and renames an office; a taken code → 400 at the field; desk is refused."""
    code = unique("N")[:12].upper()
    desk = await login_as("desk")
    assert (await desk.get("/customers/offices")).status_code == 403
    assert (await desk.post_form("/customers/offices", {"code": code, "name": "x"})).status_code == 403
    manager = await login_as("manager", lang="en")
    assert (await manager.get("/customers/offices")).status_code == 200
    assert (await manager.post_form("/customers/offices", {"code": code, "name": "新网点", "city": "郑州"})).status_code == 303
    office = (await fetch("SELECT id FROM service_office WHERE code = {}", code))[0]
    again = await manager.post_form("/customers/offices", {"code": code, "name": "重复"})
    assert again.status_code == 400 and "This code is taken." in again.text
    renamed = await manager.post_form("/customers/offices", {"office_id": office["id"], "code": code, "name": "郑州服务站",
                                                             "is_active": "0"})
    assert renamed.status_code == 303
    row = (await fetch("SELECT name, is_active FROM service_office WHERE id = {}", office["id"]))[0]
    assert row["name"] == "郑州服务站" and not row["is_active"]
    assert await count("SELECT COUNT(*) AS n FROM service_office WHERE name = '重复'") == 0


async def test_customer_pick_fragment(login_as):
    """Other screens embed the picker: matches link to the given same-site prefix only."""
    tag = unique("选取")
    cid = await make_customer(f"{tag}公司")
    client = await login_as("field")
    fragment = await client.get("/customers/pick", params={"q": tag, "link": "/tickets/new?customer_id="})
    assert fragment.status_code == 200 and f'href="/tickets/new?customer_id={cid}"' in fragment.text
    evil = await client.get("/customers/pick", params={"q": tag, "link": "//evil.example/"})
    assert f'href="/customers/{cid}"' in evil.text


async def test_contract_page_lists_its_devices(login_as):
    """The contract page lists the devices under it; /devices?contract= filters them."""
    cid = await make_customer()
    kid = await make_contract(cid, "warranty")
    inside = await make_device(cid, contract_id=kid, acceptance=TODAY)
    outside = await make_device(cid, acceptance=TODAY)
    client = await login_as("gm")
    page = await client.get(f"/contracts/{kid}")
    assert f"/devices/{inside}\"" in page.text and f"/devices/{outside}\"" not in page.text
    listed = await client.get("/devices", params={"contract": kid})
    assert f"/devices/{inside}\"" in listed.text and f"/devices/{outside}\"" not in listed.text


async def test_concurrent_device_posts_same_serial(login_as):
    """Ten posts of the same serial at once: one 303, the rest 400 with the serial message; one device."""
    import asyncio

    cid = await make_customer()
    client = await login_as("desk")
    serial = unique("HRACE").upper()
    form = {"serial": serial, "model": "DS-7608NI-K2", "system": "cctv", "customer_id": cid}
    await client.csrf()
    responses = await asyncio.gather(*[client.post_form("/devices/new", form) for _ in range(10)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [303] + [400] * 9, codes
    assert await count("SELECT COUNT(*) AS n FROM device WHERE serial = {}", serial) == 1


async def test_customer_pick_refuses_links_a_browser_reads_as_another_site(login_as):
    """'/\\evil' and '/<TAB>/evil' are '//evil' to a browser: the picker falls back to the customer page."""
    tag = unique("选取")
    cid = await make_customer(f"{tag}公司")
    client = await login_as("field")
    for link in ("/\\evil.example/", "/\t/evil.example/", "/\n/evil.example/"):
        fragment = await client.get("/customers/pick", params={"q": tag, "link": link})
        assert fragment.status_code == 200 and f'href="/customers/{cid}"' in fragment.text, repr(link)
        assert "evil.example" not in fragment.text


async def test_edit_without_version_is_400_not_unchecked(login_as):
    """An edit form without its hidden version is refused (400), never saved without the stale check."""
    cid = await make_customer()
    c = await svc.get_customer(cid)
    client = await login_as("desk")
    form = {"name": c["name"] + "X", "office_id": c["office_id"], "customer_class": "retail", "area": "city",
            "distance_km": "1"}
    assert (await client.post_form(f"/customers/{cid}/edit", form)).status_code == 400
    assert (await svc.get_customer(cid))["name"] == c["name"]
    kid = await make_contract(cid)
    assert (await client.post_form(f"/contracts/{kid}/stage", {"stage": "Y"})).status_code == 400
    assert (await svc.get_contract(kid))["stage"] == "Q"


async def test_device_event_in_the_future_400(login_as):
    """The device page's event form refuses a future date with the field message."""
    did = await make_device(await make_customer())
    client = await login_as("desk")
    future = (svc.today() + dt.timedelta(days=3)).isoformat()
    response = await client.post_form(f"/devices/{did}/events", {"event_type": "failure", "fault_code": "F9",
                                                                  "occurred_on": future})
    assert response.status_code == 400
    assert not await fetch("SELECT id FROM device_event WHERE device_id = {}", did)


async def test_customer_form_refuses_control_characters(login_as):
    """The customer form is read through its schema: a control character is a field error (400), nothing written."""
    office = await make_office()
    client = await login_as("desk")
    name = unique("控制") + "\x07"
    response = await client.post_form("/customers/new", {"name": name, "office_id": office, "customer_class": "retail",
                                                         "area": "city", "distance_km": "1"})
    assert response.status_code == 400
    assert await count("SELECT COUNT(*) AS n FROM customer WHERE name LIKE {}", name[:-1] + "%") == 0
