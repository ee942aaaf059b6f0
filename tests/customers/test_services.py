"""Service rules for customers, contracts, devices, renewals, quotes, documents and imports (R-CUS-01…08)."""

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from app.core.audit.services import Actor
from app.customers import documents as docs
from app.customers import importer, pricing, renewals
from app.customers import services as svc
from app.core.db import fetch
from app.core.errors import DomainError
from seed.factories import make_user, unique
from tests.customers.factories import make_contract, make_customer, make_device, make_office

TODAY = svc.today()
DESK = Actor(user_id=None, username="desk-test", roles=frozenset({"desk"}))
ADMIN = Actor(user_id=None, username="admin-test", roles=frozenset({"admin"}))


async def audit_count(action: str, entity_id) -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE action = {} AND entity_id = {}", action, str(entity_id))
    return int(rows[0]["n"])


# ---------------------------------------------------------------- R-CUS-01 customers

async def test_r_cus_01_create_customer_with_contacts_and_audit():
    """A customer is stored with its contacts, and the creation is audited."""
    cid = await make_customer(contacts=[("王经理", "13800000001"), ("李工", "13900000002")], distance="12.5")
    customer = await svc.get_customer(cid)
    assert [c["name"] for c in customer["contacts"]] == ["王经理", "李工"]
    assert customer["distance_km"] == Decimal("12.5")
    assert await audit_count("customer.created", cid) == 1


@pytest.mark.parametrize("field,value,key", [("name", "", "name"), ("distance_km", "-1", "distance_km"),
                                             ("distance_km", "abc", "distance_km"), ("customer_class", "vip", "customer_class")])
async def test_r_cus_01_bad_input_refused(field, value, key):
    """Missing name, negative or junk distance, unknown class → field error, nothing written."""
    office = await make_office()
    name = unique("坏客户")
    data = svc.CustomerInput(name=name, office_id=str(office))
    setattr(data, field, value)
    with pytest.raises(DomainError) as exc:
        await svc.create_customer(DESK, data)
    assert key in exc.value.errors
    assert not await fetch("SELECT id FROM customer WHERE name = {}", name or "-")


async def test_r_cus_01_search_by_name_phone_contact_and_serial():
    """One search box finds a customer by name, phone, contact name or phone, and device serial."""
    tag = unique("搜")
    cid = await make_customer(f"{tag}科技有限公司", phone="0755-8888" + tag[-4:], contacts=[(f"赵{tag}", "1361234" + tag[-4:])])
    serial = unique("ZZSER").upper()
    await make_device(cid, serial=serial)
    for q in (tag, "0755-8888" + tag[-4:], f"赵{tag}", "1361234" + tag[-4:], serial, serial[:-2].lower()):
        rows, _ = await svc.list_customers(svc.CustomerFilter(q=q))
        assert cid in [r["id"] for r in rows], q


async def test_r_cus_01_keyset_pagination_by_name():
    """Pages follow (name, id) without gaps or repeats."""
    office = await make_office()
    ids = [await make_customer(f"分页客户{i:02d}", office_id=office) for i in range(7)]
    seen, after = [], None
    while True:
        rows, after = await svc.list_customers(svc.CustomerFilter(office_id=office), after=after, limit=3)
        seen += [r["id"] for r in rows]
        if not after:
            break
    assert seen == ids


async def test_update_customer_stale_version_409():
    """A stale edit (version moved on) is refused with 409."""
    cid = await make_customer()
    customer = await svc.get_customer(cid)
    data = svc.CustomerInput(name=customer["name"] + "X", office_id=str(customer["office_id"]))
    await svc.update_customer(DESK, cid, data, version=customer["version"])
    with pytest.raises(DomainError) as exc:
        await svc.update_customer(DESK, cid, svc.CustomerInput(name="Y", office_id=str(customer["office_id"])),
                                  version=customer["version"])
    assert exc.value.status == 409
    assert (await svc.get_customer(cid))["name"] == customer["name"] + "X"


# ---------------------------------------------------------------- R-CUS-02 contracts

async def test_r_cus_02_contract_number_stage_history_and_sla_fields():
    """Contract gets an HT number, a first stage-history row and the SLA / billing fields."""
    cid = await make_customer()
    kid = await make_contract(cid, "annual", response_hours=2, onsite_hours_city=3, onsite_hours_suburb=10,
                              tariff_policy="key_account")
    k = await svc.get_contract(kid)
    assert k["number"].startswith("HT-")
    assert (k["response_hours"], k["onsite_hours_city"], k["onsite_hours_suburb"], k["tariff_policy"]) == (2, 3, 10, "key_account")
    history = await svc.contract_history(kid)
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [("", "Q")]


async def test_r_cus_02_end_before_start_refused():
    """End before start → field error; nothing written."""
    cid = await make_customer()
    data = svc.ContractInput(contract_type="annual", start_date="2026-05-01", end_date="2026-04-30")
    with pytest.raises(DomainError) as exc:
        await svc.create_contract(DESK, cid, data)
    assert "end_date" in exc.value.errors
    assert not await fetch("SELECT id FROM contract WHERE customer_id = {}", cid)


async def test_r_cus_02_stage_change_history_and_stale_click():
    """Q → Y is kept in history; a second click with the old version gets 409."""
    kid = await make_contract(await make_customer())
    version = (await svc.get_contract(kid))["version"]
    await svc.change_stage(DESK, kid, "Y", note="验收归档", version=version)
    with pytest.raises(DomainError) as exc:
        await svc.change_stage(DESK, kid, "B", version=version)
    assert exc.value.status == 409
    history = await svc.contract_history(kid)
    assert [(h["from_stage"], h["to_stage"], h["note"]) for h in history][-1] == ("Q", "Y", "验收归档")
    assert (await svc.get_contract(kid))["stage"] == "Y"


async def test_r_cus_02_concurrent_stage_changes_one_wins():
    """Ten users moving the same stage at once: exactly one change is recorded."""
    kid = await make_contract(await make_customer())
    version = (await svc.get_contract(kid))["version"]
    results = await asyncio.gather(*[svc.change_stage(DESK, kid, "Y", version=version) for _ in range(10)],
                                   return_exceptions=True)
    assert sum(1 for r in results if r is None) == 1
    assert all(isinstance(r, DomainError) and r.status == 409 for r in results if r is not None)
    assert len(await svc.contract_history(kid)) == 2


async def test_r_tkt_02_entitlement_prefers_warranty_then_annual():
    """Entitlement: in-warranty beats annual; expired or terminated contracts do not count."""
    cid = await make_customer(area="suburb")
    assert (await svc.customer_entitlement(cid)).status == "none"
    await make_contract(cid, "per_visit")
    await make_contract(cid, "annual", onsite_hours_suburb=8)
    ent = await svc.customer_entitlement(cid)
    assert ent.status == "annual" and ent.onsite_hours == 8
    await make_contract(cid, "warranty", start=TODAY - dt.timedelta(days=900), end=TODAY - dt.timedelta(days=1))
    assert (await svc.customer_entitlement(cid)).status == "annual"
    await make_contract(cid, "warranty", tariff_policy="warranty_free")
    ent = await svc.customer_entitlement(cid)
    assert ent.status == "warranty" and ent.tariff_policy == "warranty_free" and len(ent.contracts) == 3
    assert await svc.customer_entitlement(10**9) is None


# ---------------------------------------------------------------- R-CUS-04/05/06 devices

async def test_r_cus_04_device_serial_normalised_and_unique():
    """Serial is stored upper-case without spaces; a duplicate (any case) is refused."""
    cid = await make_customer()
    serial = unique("dup").upper()
    await make_device(cid, serial=f" {serial.lower()} ")
    assert (await svc.lookup_device(serial.lower()))["serial"] == serial
    with pytest.raises(DomainError) as exc:
        await make_device(cid, serial=serial.lower())
    assert "serial" in exc.value.errors
    assert (await svc.get_customer(cid))["device_count"] == 1


async def test_r_cus_04_concurrent_same_serial_one_device():
    """Twenty desks registering the same serial at once: one device exists."""
    cid = await make_customer()
    serial = unique("RACE").upper()
    results = await asyncio.gather(*[make_device(cid, serial=serial) for _ in range(20)], return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, int)) == 1
    losers = [r for r in results if not isinstance(r, int)]
    assert all(isinstance(r, DomainError) and "serial" in r.errors for r in losers), losers
    assert len(await fetch("SELECT id FROM device WHERE serial = {}", serial)) == 1
    assert (await svc.get_customer(cid))["device_count"] == 1


async def test_r_cus_04_term_from_device_contract_or_default():
    """Device override → contract term → 36-month default."""
    cid = await make_customer()
    accepted = dt.date(2024, 3, 2)
    kid = await make_contract(cid, "warranty", warranty_months=12)
    d_default = await make_device(cid, acceptance=accepted)
    d_contract = await make_device(cid, acceptance=accepted, contract_id=kid)
    d_own = await make_device(cid, acceptance=accepted, contract_id=kid, warranty_months=24)
    assert (await svc.warranty_status(d_default)).end == dt.date(2027, 3, 2)
    assert (await svc.warranty_status(d_contract)).end == dt.date(2025, 3, 2)
    assert (await svc.warranty_status(d_own)).end == dt.date(2026, 3, 2)
    # Changing the contract's term recomputes its devices' stored end dates.
    k = await svc.get_contract(kid)
    data = svc.ContractInput(contract_type="warranty", start_date=str(k["start_date"]), end_date=str(k["end_date"]),
                             warranty_months="18")
    await svc.update_contract(DESK, kid, data)
    row = (await fetch("SELECT warranty_end FROM device WHERE id = {}", d_contract))[0]
    assert svc.as_date(row["warranty_end"]) == dt.date(2025, 9, 2)


async def test_r_cus_05_record_failure_extends_and_explains():
    """An unresolvable failure while covered adds 60 days, stored and explained; a resolvable one does not."""
    cid = await make_customer()
    did = await make_device(cid, acceptance=TODAY - dt.timedelta(days=100))
    before = (await svc.warranty_status(did)).end
    r1 = await svc.record_failure(DESK, did, "no-video", False, "ticket", 7)
    assert not r1.extended and r1.warranty.end == before
    r2 = await svc.record_failure(DESK, did, "no-video", True, "ticket", 8)
    assert r2.extended and r2.warranty.end == before + dt.timedelta(days=60)
    status = await svc.warranty_status(serial=(await svc.get_device(did))["serial"])
    assert (await svc.warranty_status((await svc.get_device(did))["serial"].lower())).device["id"] == did
    assert status.in_warranty and status.end == before + dt.timedelta(days=60)
    row = (await fetch("SELECT warranty_end, extension_events FROM device WHERE id = {}", did))[0]
    assert svc.as_date(row["warranty_end"]) == status.end and row["extension_events"] == 1
    events = await svc.device_events(did)
    assert [(e["fault_code"], e["source_type"], e["source_id"]) for e in events][-1] == ("NO-VIDEO", "ticket", "8")
    assert await audit_count("device.failure_recorded", did) == 2


async def test_r_cus_05_failure_after_expiry_does_not_extend():
    """A device whose warranty ended is not revived by a failure."""
    did = await make_device(await make_customer(), acceptance=TODAY - dt.timedelta(days=2000))
    result = await svc.record_failure(DESK, did, "PWR", True)
    assert not result.extended and not (await svc.warranty_status(did)).in_warranty


async def test_r_cus_06_same_fault_third_time_flags_replacement():
    """Same fault repaired twice and failing again sets the replacement proposal on the device."""
    did = await make_device(await make_customer(), acceptance=TODAY - dt.timedelta(days=10))
    await svc.record_failure(DESK, did, "PTZ", False)
    await svc.record_repair(DESK, did, "PTZ", "rma", 1)
    await svc.record_failure(DESK, did, "PTZ", False)
    assert not (await svc.warranty_status(did)).replacement_proposed
    await svc.record_repair(DESK, did, "PTZ", "rma", 2)
    result = await svc.record_failure(DESK, did, "ptz", False)
    assert result.replacement_proposed and result.replacement_faults == ("PTZ",)
    assert (await fetch("SELECT replacement_proposed FROM device WHERE id = {}", did))[0]["replacement_proposed"]
    rows, _ = await svc.list_devices(svc.DeviceFilter(replacement=True, q=(await svc.get_device(did))["serial"]))
    assert [r["id"] for r in rows] == [did]


async def test_r_cus_05_concurrent_failures_all_counted():
    """Thirty failures recorded at once: every one is stored and extends the warranty (no lost update)."""
    did = await make_device(await make_customer(), acceptance=TODAY - dt.timedelta(days=1))
    base = (await svc.warranty_status(did)).end
    await asyncio.gather(*[svc.record_failure(DESK, did, f"F{i}", True) for i in range(30)])
    row = (await fetch("SELECT warranty_end, extension_events FROM device WHERE id = {}", did))[0]
    assert row["extension_events"] == 30
    assert svc.as_date(row["warranty_end"]) == base + dt.timedelta(days=60 * 30)


async def test_record_failure_joins_callers_transaction():
    """Another domain's service may call record_failure inside its own write transaction; a rollback undoes it."""
    from app.core.db import write_transaction

    did = await make_device(await make_customer(), acceptance=TODAY)
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await svc.record_failure(DESK, did, "X", True, "ticket", 1)
            raise RuntimeError("caller failed")
    assert await svc.device_events(did) == []


async def test_record_failure_needs_fault_and_device():
    """Empty fault → field error; unknown device → 404."""
    did = await make_device(await make_customer(), acceptance=TODAY)
    with pytest.raises(DomainError) as exc:
        await svc.record_failure(DESK, did, "  ", True)
    assert "fault_code" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        await svc.record_failure(DESK, 10**9, "X", True)
    assert exc.value.status == 404


async def test_device_acceptance_before_install_refused():
    """Acceptance cannot be before installation."""
    cid = await make_customer()
    data = svc.DeviceInput(serial=unique("AB").upper(), model="X", customer_id=str(cid), system="cctv",
                           install_date="2025-05-02", acceptance_date="2025-05-01")
    with pytest.raises(DomainError) as exc:
        await svc.create_device(DESK, data)
    assert "acceptance_date" in exc.value.errors


# ---------------------------------------------------------------- R-CUS-07 renewals

async def test_r_cus_07_due_list_and_notice_once_per_end_date():
    """Contracts and device warranties ending within the window are listed; 'notice sent' is recorded once."""
    cid = await make_customer()
    kid = await make_contract(cid, "annual", start=TODAY - dt.timedelta(days=360), end=TODAY + dt.timedelta(days=5))
    far = await make_contract(cid, "annual", start=TODAY, end=TODAY + dt.timedelta(days=200))
    accepted = svc.engine.add_months(TODAY, 0) - dt.timedelta(days=0)
    d1 = await make_device(cid, acceptance=TODAY - dt.timedelta(days=360), warranty_months=12)
    due = await renewals.due_renewals(customer_id=cid)
    kinds = {(d.kind, d.contract_id) for d in due}
    assert ("contract", kid) in kinds and ("contract", far) not in kinds
    devices = [d for d in due if d.kind == "devices"]
    assert devices and devices[0].device_count == 1
    assert await renewals.mark_notice_sent(DESK, kind="contract", subject_id=kid, sent_on=TODAY.isoformat(), method="letter") == 1
    assert await renewals.mark_notice_sent(DESK, kind="contract", subject_id=kid, sent_on=TODAY.isoformat(), method="fax") == 0
    assert await renewals.mark_notice_sent(DESK, kind="devices", subject_id=cid, sent_on="", method="phone") == 1
    open_items = await renewals.due_renewals(customer_id=cid, include_sent=False)
    assert open_items == []
    assert accepted and d1


async def test_r_cus_07_window_is_a_setting():
    """The 10 days come from app_setting customers.renewal_days."""
    cid = await make_customer()
    kid = await make_contract(cid, "annual", start=TODAY - dt.timedelta(days=300), end=TODAY + dt.timedelta(days=15))
    assert not [d for d in await renewals.due_renewals(customer_id=cid) if d.contract_id == kid]
    assert [d for d in await renewals.due_renewals(customer_id=cid, days=20) if d.contract_id == kid]


async def test_r_cus_07_bad_notice_input():
    """Unknown method or a future date → field errors."""
    kid = await make_contract(await make_customer())
    with pytest.raises(DomainError) as exc:
        await renewals.mark_notice_sent(DESK, kind="contract", subject_id=kid, sent_on=(TODAY + dt.timedelta(days=3)).isoformat(),
                                        method="pigeon")
    assert set(exc.value.errors) == {"method", "sent_on"}


# ---------------------------------------------------------------- R-CUS-03 quote

def _tiers(*pairs):
    return [pricing.Tier(id=i, min_value=m, price_fen=p * 100) for i, (m, p) in enumerate(pairs)]


def test_r_cus_03_switch_tier_by_quantity():
    """Switches: 1–5 ¥400, 6–10 ¥360, 11+ ¥320 each."""
    item = pricing.Item(id=1, code="switch", system="network", name="switch", unit="", basis="qty",
                        tiers=_tiers((1, 400), (6, 360), (11, 320)))
    for qty, unit in ((1, 400), (5, 400), (6, 360), (10, 360), (11, 320), (40, 320)):
        [line] = pricing.quote_lines([item], {"switch": qty}, {})
        assert line.unit_price == Decimal(unit) and line.amount == Decimal(unit * qty)


def test_r_cus_03_pbx_tier_by_ports_per_unit():
    """PBX priced per unit by its port count; ≤100 ports is ¥1,000."""
    item = pricing.Item(id=2, code="pbx", system="telephone", name="pbx", unit="", basis="capacity",
                        tiers=_tiers((0, 600), (51, 1000), (101, 1500), (200, 1800), (300, 3000)))
    lines = pricing.quote_lines([item], {}, {"pbx": [48, 96, 100, 320]})
    assert [(l.quantity, l.unit_price) for l in lines] == [(1, Decimal(600)), (2, Decimal(1000)), (1, Decimal(3000))]
    assert pricing.quote_total(lines) == Decimal(5600)


async def test_r_cus_03_seeded_price_list_and_quote_from_devices():
    """The seeded list holds Appendix 2 (PBX ≤100 = ¥1,000 with a note); a quote counts the customer's devices."""
    items = {i.code: i for i in await pricing.price_list()}
    pbx = {t.min_value: t for t in items["pbx"].tiers}
    assert pbx[51].price == Decimal("1000.00") and "100" in pbx[51].note
    assert [t.price for t in items["switch"].tiers] == [Decimal(400), Decimal(360), Decimal(320)]
    cid = await make_customer()
    for _ in range(3):
        await make_device(cid, kind="camera")
    await make_device(cid, kind="pbx", capacity=80)
    quote = await pricing.build_quote(cid)
    lines = {l.item.code: l for l in quote["lines"]}
    assert lines["camera"].amount == Decimal(450) and lines["pbx"].unit_price == Decimal(1000)
    assert quote["total"] == Decimal(1450)
    edited = await pricing.build_quote(cid, {"q_network_point": "20", "q_pbx": "30, 120"})
    assert edited["total"] == Decimal(20 * 50 + 600 + 1500)


async def test_r_cus_03_only_admin_edits_price():
    """A desk user cannot change a price; an admin can (audited); bad input is a field error."""
    tier = (await pricing.price_list())[0].tiers[0]
    with pytest.raises(DomainError) as exc:
        await pricing.update_tier(DESK, tier.id, price="1", note="", min_value="1")
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        await pricing.update_tier(ADMIN, tier.id, price="-5", note="", min_value="x")
    assert set(exc.value.errors) == {"price", "min_value"}
    await pricing.update_tier(ADMIN, tier.id, price=str(tier.price), note="checked", min_value=str(tier.min_value))
    assert await audit_count("price_tier.updated", tier.id) >= 1


# ---------------------------------------------------------------- R-CUS-08 documents

async def test_r_cus_08_document_stored_under_random_name():
    """A PDF is stored under a random name in the upload dir; the original name is data only."""
    cid = await make_customer()
    doc_id = await docs.save_document(DESK, cid, filename="../../竣工图.pdf", data=b"%PDF-1.4 test", kind="drawing")
    row = await docs.get_document(doc_id)
    assert row["original_name"] == "竣工图.pdf" and row["stored_name"] != row["original_name"]
    assert docs.document_path(row).read_bytes() == b"%PDF-1.4 test"
    assert row["content_type"] == "application/pdf"


@pytest.mark.parametrize("filename,data", [("x.html", b"<html>"), ("x.pdf", b"<html><script>"), ("x.txt", b"<svg onload=1>"),
                                           ("x.exe", b"MZ"), ("x.pdf", b"")])
async def test_r_cus_08_wrong_type_refused(filename, data):
    """HTML, SVG, executables, disguised files and empty files are refused; nothing written."""
    cid = await make_customer()
    with pytest.raises(DomainError) as exc:
        await docs.save_document(DESK, cid, filename=filename, data=data)
    assert "file" in exc.value.errors
    assert await docs.list_documents(cid) == []


async def test_r_cus_08_oversize_refused(monkeypatch):
    """A file over the size limit is refused."""
    async def tiny():
        return 10

    monkeypatch.setattr(docs, "max_bytes", tiny)
    cid = await make_customer()
    with pytest.raises(DomainError) as exc:
        await docs.save_document(DESK, cid, filename="a.pdf", data=b"%PDF-" + b"x" * 20)
    assert "file" in exc.value.errors


# ---------------------------------------------------------------- import

async def test_import_customers_all_or_nothing():
    """A file with one bad row writes nothing; a clean file writes every row in one go."""
    user_id = await make_user("desk")
    actor = Actor(user_id=user_id, username="imp", roles=frozenset({"desk"}))
    office = (await fetch("SELECT code FROM service_office WHERE id = {}", await make_office()))[0]["code"]
    tag = unique("导入")
    bad = f"客户名称,服务网点,距离(km),联系人,联系电话\n{tag}甲,{office},3,张三,1\n{tag}乙,{office},-2,李四,2\n".encode()
    preview = await importer.preview(actor, "customers", "c.csv", bad)
    assert not preview.ok and [r.line for r in preview.error_rows] == [3] and not preview.token
    good = f"客户名称,服务网点,距离(km),联系人,联系电话\n{tag}甲,{office},3,张三,1\n{tag}乙,{office},2,李四,2\n".encode()
    preview = await importer.preview(actor, "customers", "c.csv", good)
    assert preview.ok and not await fetch("SELECT id FROM customer WHERE name LIKE {}", f"{tag}%")
    other = Actor(user_id=user_id + 100000, username="x")
    with pytest.raises(DomainError):
        await importer.commit(other, preview.token)
    kind, count = await importer.commit(actor, preview.token)
    assert (kind, count) == ("customers", 2)
    assert len(await fetch("SELECT id FROM customer WHERE name LIKE {}", f"{tag}%")) == 2


async def test_import_devices_xlsx_duplicate_serials():
    """Devices from XLSX: duplicates inside the file or against the database are row errors."""
    from openpyxl import Workbook
    import io

    cid = await make_customer(unique("设备导入客户"))
    name = (await svc.get_customer(cid))["name"]
    existing = unique("EX").upper()
    await make_device(cid, serial=existing)
    wb = Workbook()
    ws = wb.active
    ws.append(["序列号", "客户", "型号", "验收日期"])
    new = unique("NEW").upper()
    ws.append([new, name, "DS-7608NI", dt.datetime(2025, 1, 2)])
    ws.append([new, name, "DS-7608NI", "2025-01-02"])
    ws.append([existing, name, "DS-7608NI", ""])
    ws.append([unique("NEW2").upper(), "没有这个客户", "X", ""])
    buf = io.BytesIO()
    wb.save(buf)
    preview = await importer.preview(DESK, "devices", "d.xlsx", buf.getvalue())
    assert [r.line for r in preview.error_rows] == [3, 4, 5]
    assert not await fetch("SELECT id FROM device WHERE serial = {}", new)


async def test_export_xlsx_opens():
    """The customer export is a readable workbook with a header row."""
    from openpyxl import load_workbook
    import io

    await make_customer("=cmd|' /C calc'!A0")
    content = await importer.export_customers(svc.CustomerFilter(q="cmd|"))
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) >= 2 and rows[1][0].startswith("'=")


async def test_r_cus_01_serial_prefix_search_finds_exactly_the_prefix():
    """The search box's serial prefix (an index range on SQLite) finds devices starting with it and no others."""
    from app.customers import services as svc
    from seed.customers import make_customer, make_device
    from seed.factories import unique

    stem = unique("PX").upper()
    owner, other = await make_customer(), await make_customer()
    await make_device(customer_id=owner, serial=f"{stem}-A1")
    await make_device(customer_id=other, serial=f"Z{stem}-B2")
    rows, _ = await svc.list_customers(svc.CustomerFilter(q=stem))
    assert [r["id"] for r in rows] == [owner]


# ---------------------------------------------------------------- kit rules (issue #10)

async def test_r_cus_05_future_failure_refused_by_the_service():
    """A failure (or repair) dated in the future is refused by the service itself — rma and tickets
    call it without the device page's form — with a field error; nothing is written."""
    device_id = await make_device(await make_customer(), acceptance=TODAY - dt.timedelta(days=10))
    tomorrow = TODAY + dt.timedelta(days=1)
    with pytest.raises(DomainError) as exc:
        await svc.record_failure(DESK, device_id, "F1", True, "rma", 1, occurred_on=tomorrow)
    assert exc.value.status == 400 and "occurred_on" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        await svc.record_repair(DESK, device_id, "F1", "rma", 1, occurred_on=tomorrow)
    assert "occurred_on" in exc.value.errors
    assert not await fetch("SELECT id FROM device_event WHERE device_id = {}", device_id)


async def test_r_cus_02_stage_change_writes_status_history():
    """The QYBS stage moves through core.status.move(): one status_change row besides the stage history."""
    kid = await make_contract(await make_customer())
    version = (await svc.get_contract(kid))["version"]
    await svc.change_stage(DESK, kid, "Y", version=version)
    rows = await fetch("SELECT from_status, to_status FROM status_change WHERE table_name = 'contract' AND row_id = {}", kid)
    assert [(r["from_status"], r["to_status"]) for r in rows] == [("Q", "Y")]
    assert (await svc.get_contract(kid))["version"] == version + 1


async def test_r_cus_02_stage_change_needs_the_edit_permission():
    """Only desk and manager move a contract's stage (the service checks, not only the route)."""
    kid = await make_contract(await make_customer())
    finance = Actor(user_id=None, username="fin-test", roles=frozenset({"finance"}))
    with pytest.raises(DomainError) as exc:
        await svc.change_stage(finance, kid, "Y", version=(await svc.get_contract(kid))["version"])
    assert exc.value.status == 403
    assert (await svc.get_contract(kid))["stage"] == "Q"
