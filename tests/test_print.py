"""Printouts look like the real thing (issue #12, "Phones and paper"): every A4 print view carries the issuing
company's letterhead from the settings (not a generic "售后服务"), the customer statement carries the issuer's bank
details and the customer's address and no internal status, and labels print on label stock (a label-size page,
N copies, one label per page of the roll)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from app.core.actor import Actor
from app.core.dates import today
from app.core.settings import set_setting
from seed.factories import unique

COMPANY = {
    "company.name": "测试安防技术服务有限公司",
    "company.address": "测试市测试路 1 号",
    "company.phone": "010-1234 5678",
    "company.bank_name": "测试银行高新支行",
    "company.bank_account": "6222 0000 1111 2222",
    "company.tax_id": "91110000TEST0001X",
}
ADMIN = Actor(user_id=None, username="system", roles=frozenset({"admin"}))
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
async def letterhead():
    for key, value in COMPANY.items():
        await set_setting(ADMIN, key, value)
    yield COMPANY
    for key in COMPANY:
        await set_setting(ADMIN, key, "")


def _has_letterhead(html: str) -> bool:
    head = html.split('class="sheet-header"', 1)[-1].split("</header>", 1)[0]
    return all(COMPANY[k] in head for k in ("company.name", "company.address", "company.phone"))


async def _print_urls() -> dict[str, str]:
    """One object per print view, built by the domains' own test factories."""
    from app.ledger import receivables as ar
    from seed.customers import make_contract
    from tests.loaners.factories import checkout, keeper, make_customer, make_loaner
    from tests.rma.factories import make_rma
    from tests.scrap.factories import keeper as scrap_keeper, quarantined_unit, raise_unit
    from tests.tickets.factories import dispatched, visit_of

    customer = await make_customer()
    await make_contract(customer, "annual", start=today().replace(day=1), end=today().replace(year=today().year + 1))
    part_id, unit_id, serial = await make_loaner()
    loan_id = await checkout(await keeper(), serial, customer)
    rma_id = await make_rma("inspected")
    ticket_id, _desk, _tech = await dispatched()
    visit = await visit_of(ticket_id)
    _p, _u, scrap_serial = await quarantined_unit()
    rid = await raise_unit(await scrap_keeper(), scrap_serial)
    name = unique("月结")
    finance = Actor(user_id=None, username="system", roles=frozenset({"desk", "finance"}))
    await ar.post_receivable(finance, "ticket", unique("T"), customer, name, "monthly", Decimal("300.00"), "维修费", None)
    sid = await ar.draft_statement(finance, name, today().strftime("%Y-%m"))
    from app.core.db import fetch

    location = (await fetch("SELECT id FROM stock_location ORDER BY id LIMIT 1"))[0]["id"]
    return {
        "loaner notice": f"/loaners/{loan_id}/notice",
        "return slip": f"/bench/{rma_id}/print/slip",
        "dispatch": f"/tickets/{ticket_id}/print/dispatch",
        "service slip": f"/tickets/visits/{visit['id']}/print",
        "scrap record": f"/scrap/{rid}/print",
        "statement": f"/receivables/statements/{sid}/print",
        "reconciliation": f"/slips/reconcile/print?month={today().strftime('%Y-%m')}",
        "customer quote": f"/customers/{customer}/quote/print",
        "renewal letter": f"/customers/{customer}/renewal-letter",
        "location sheet": f"/parts/locations/{location}/sheet",
    }


async def test_every_a4_print_view_shows_the_company_letterhead_in_chinese(login_as, letterhead):
    from app.core.roles import ROLES

    client = await login_as(*ROLES)
    urls = await _print_urls()
    missing = []
    for label, url in urls.items():
        page = await client.get(url, headers=ZH)
        assert page.status_code == 200, (label, url, page.status_code, page.text[:300])
        if not _has_letterhead(page.text) or "售后服务</strong>" in page.text:
            missing.append(label)
    assert not missing, f"print views without the company letterhead: {missing}"


async def test_statement_prints_issuer_bank_and_customer_address_without_internal_status(login_as, letterhead):
    from app.ledger import receivables as ar
    from tests.loaners.factories import make_customer

    customer = await make_customer()
    finance = Actor(user_id=None, username="system", roles=frozenset({"desk", "finance"}))
    name = unique("月结")
    await ar.post_receivable(finance, "ticket", unique("T"), customer, name, "monthly", Decimal("120.00"), "维修费", None)
    sid = await ar.draft_statement(finance, name, today().strftime("%Y-%m"))
    client = await login_as("finance")
    page = (await client.get(f"/receivables/statements/{sid}/print", headers=ZH)).text
    assert COMPANY["company.bank_name"] in page and COMPANY["company.bank_account"] in page and COMPANY["company.tax_id"] in page
    assert "北京市海淀区" in page  # the customer's address (seed.customers.make_customer)
    assert "状态" not in page and "草稿" not in page and "draft" not in page  # no internal status on the customer's copy


async def test_labels_print_on_label_stock_one_per_page_with_copies(login_as):
    from tests.loaners.factories import make_loaner

    part_id, unit_id, serial = await make_loaner()
    await set_setting(ADMIN, "print.label_width_mm", 50)
    await set_setting(ADMIN, "print.label_height_mm", 30)
    try:
        client = await login_as("warehouse")
        page = (await client.get(f"/parts/{part_id}/label?copies=3", headers=ZH)).text
        assert "@page { size: 50mm 30mm; margin: 0; }" in page
        assert ".label { width: 50mm; height: 30mm; }" in page
        assert page.count('<section class="label"') == 3
        assert "size: A4" not in page and 'class="sheet"' not in page  # not one label per A4 sheet
        assert 'name="copies"' in page and 'value="3"' in page and "每张标签打印份数" in page
        assert "<svg" in page  # the barcode / QR code printed today stays on the label
        unit = (await client.get(f"/parts/units/{unit_id}/label?copies=2", headers=ZH)).text
        assert unit.count('<section class="label"') == 2 and serial in unit
        capped = (await client.get(f"/parts/{part_id}/label?copies=100000", headers=ZH)).text
        assert capped.count('<section class="label"') == 60  # print.label_copies_max: a typo never prints a roll
        nonsense = await client.get(f"/parts/{part_id}/label?copies=-5", headers=ZH)
        assert nonsense.status_code == 200 and nonsense.text.count('<section class="label"') == 1
    finally:
        await set_setting(ADMIN, "print.label_width_mm", 60)
        await set_setting(ADMIN, "print.label_height_mm", 40)


async def test_company_settings_are_editable_by_the_admin_with_chinese_labels_and_refused_to_others(login_as):
    admin = await login_as("admin")
    page = await admin.get("/admin/settings", headers=ZH)
    assert page.status_code == 200
    for label in ("打印单据：公司名称", "打印单据：公司地址", "打印单据：公司电话", "打印单据：开户银行（对账单）",
                  "打印单据：银行账号（对账单）", "打印单据：纳税人识别号", "标签：标签宽度（毫米）", "标签：标签高度（毫米）"):
        assert label in page.text
    saved = await admin.post_form("/admin/settings", {"company.name": "保存测试公司", "print.label_width_mm": "62"})
    assert saved.status_code == 303, saved.text[:500]
    from app.core.settings import setting
    from app.core.db import fetch

    assert await setting("company.name") == "保存测试公司" and await setting("print.label_width_mm") == 62
    assert await fetch("SELECT 1 FROM audit_event WHERE action = 'setting.updated' AND entity_id = 'company.name'")
    bad = await admin.post_form("/admin/settings", {"print.label_width_mm": "5"})
    assert bad.status_code == 400 and await setting("print.label_width_mm") == 62
    for role in ("warehouse", "finance", "desk", "manager"):
        other = await login_as(role)
        assert (await other.get("/admin/settings")).status_code == 403
        refused = await other.post_form("/admin/settings", {"company.name": "黑客公司"})
        assert refused.status_code == 403
    assert await setting("company.name") == "保存测试公司"
    await admin.post_form("/admin/settings", {"company.name": "", "print.label_width_mm": "60"})
