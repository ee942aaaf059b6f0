"""Issue #12 "Chinese all the way" (X-04) on the customers pages: people's names, never usernames; labels, never
codes or rule IDs; XLSX exports with real numbers, money and dates."""

import datetime as dt
import io
import re

from openpyxl import load_workbook

from app.core.audit.services import SYSTEM
from app.core.db import fetch
from app.customers import importer
from app.customers import services as svc
from seed.factories import unique
from tests.customers.factories import make_contract, make_customer, make_device

RULE_ID = re.compile(r"\bR-[A-Z]{2,5}-\d{2}\b")


async def test_pages_show_peoples_names_and_stage_labels_never_usernames(login_as):
    """The document list, the device history and the contract's stage history name the person (full name) who did it;
    the stage history shows the stage's label; the username appears nowhere."""
    cid = await make_customer()
    did = await make_device(cid, acceptance=svc.today() - dt.timedelta(days=30))
    kid = await make_contract(cid)
    username = unique("desk.wang")
    client = await login_as("desk", username=username, full_name="王秀英")
    headers = {"x-csrftoken": await client.csrf()}
    assert (await client.post(f"/customers/{cid}/documents", data={"kind": "manual", "title": "说明书"},
                              files={"file": ("说明书.pdf", b"%PDF-1.7 manual", "application/pdf")},
                              headers=headers)).status_code == 303
    assert (await client.post_form(f"/devices/{did}/events", {"event_type": "failure", "fault_code": "NO-VIDEO",
                                                               "occurred_on": svc.today().isoformat()})).status_code == 303
    version = (await svc.get_contract(kid))["version"]
    assert (await client.post_form(f"/contracts/{kid}/stage", {"stage": "Y", "version": version})).status_code == 303
    for url in (f"/customers/{cid}", f"/devices/{did}", f"/contracts/{kid}"):
        page = await client.get(url)
        assert page.status_code == 200
        assert "王秀英" in page.text, url
        assert username not in page.text, url
        assert not RULE_ID.search(page.text), (url, RULE_ID.findall(page.text))
    contract_page = (await client.get(f"/contracts/{kid}")).text
    assert "<strong>Y</strong>" not in contract_page


async def test_renewals_and_settings_pages_show_no_rule_ids(login_as):
    """/renewals and the customers settings on /admin/settings speak Chinese without rule IDs such as R-CUS-07."""
    cid = await make_customer()
    await make_contract(cid, "annual", start=svc.today() - dt.timedelta(days=360), end=svc.today() + dt.timedelta(days=3))
    manager = await login_as("manager")
    page = await manager.get("/renewals")
    assert page.status_code == 200 and "续约回访" in page.text
    assert not RULE_ID.search(page.text), RULE_ID.findall(page.text)
    settings = await (await login_as("admin")).get("/admin/settings")
    assert settings.status_code == 200
    assert "同一故障修复几次后建议换新机" in settings.text and "R-CUS" not in settings.text


async def test_device_page_warranty_reasons_without_rule_ids(login_as):
    """The warranty explanation ("+ 60 天：…") carries no R-CUS-05."""
    did = await make_device(await make_customer(), acceptance=svc.today() - dt.timedelta(days=30))
    await svc.record_failure(SYSTEM, did, "PWR", True)
    page = await (await login_as("field")).get(f"/devices/{did}")
    assert page.status_code == 200 and "60 天" in page.text
    assert not RULE_ID.search(page.text)


# ---------------------------------------------------------------- XLSX: numbers, money, dates (#12)

def _book(content: bytes):
    return load_workbook(io.BytesIO(content))


async def test_devices_export_dates_are_dates_and_counts_are_numbers(login_as):
    """The devices export: acceptance and warranty end are real dates (yyyy-mm-dd), extensions a number, Chinese
    headers and system labels, the header bold."""
    cid = await make_customer()
    did = await make_device(cid, acceptance=dt.date(2024, 3, 2), warranty_months=12)
    await svc.record_failure(SYSTEM, did, "PWR", True, occurred_on=dt.date(2024, 6, 1))
    response = await (await login_as("desk")).get("/devices/export.xlsx", params={"customer": cid})
    assert response.status_code == 200
    sheet = _book(response.content).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[0] == "序列号" and sheet["A1"].font.b
    row = sheet[2]
    acceptance, until, extensions = row[7], row[8], row[9]
    assert acceptance.is_date and acceptance.value.date() == dt.date(2024, 3, 2)
    assert acceptance.number_format == "yyyy-mm-dd"
    assert until.is_date and until.value.date() == dt.date(2025, 3, 2) + dt.timedelta(days=60)
    assert extensions.value == 1 and extensions.data_type == "n"
    assert row[4].value == "监控"


async def test_customers_export_numbers_are_numbers(login_as):
    """The customer export: distance and device count are numbers, the class a Chinese label."""
    tag = unique("导出数字")
    cid = await make_customer(tag, distance="12.5")
    await make_device(cid)
    response = await (await login_as("finance")).get("/customers/export.xlsx", params={"q": tag})
    row = _book(response.content).worksheets[0][2]
    assert row[0].value == tag and row[1].value and row[1].value != "retail"
    assert row[7].value == 12.5 and row[7].data_type == "n"
    assert row[8].value == 1 and row[8].data_type == "n"


def test_sheet_writer_money_is_a_number_with_the_yuan_format():
    """Decimal (money) is written as a number with the ¥ two-decimal format; dates and datetimes as dates;
    text is text (never a formula), with control characters stripped."""
    from decimal import Decimal

    from app.customers import sheet

    content = sheet.xlsx("测试", ["金额", "日期", "时间", "文本", "布尔"], [
        [Decimal("1234.5"), dt.date(2026, 11, 29), dt.datetime(2026, 11, 29, 8, 30), "=SUM(A1)\x07", True],
        [Decimal("-0.01"), None, None, "a&b<c>", False],
    ])
    ws = _book(content).worksheets[0]
    assert ws.title == "测试"
    money = ws["A2"]
    assert money.value == 1234.5 and money.data_type == "n" and money.number_format == '"¥"#,##0.00'
    assert ws["A3"].value == -0.01
    assert ws["B2"].is_date and ws["B2"].value.date() == dt.date(2026, 11, 29)
    assert ws["C2"].value == dt.datetime(2026, 11, 29, 8, 30)
    assert ws["D2"].value == "'=SUM(A1)" and ws["D2"].data_type == "s"
    assert ws["D3"].value == "a&b<c>" and ws["E2"].value is True and ws["E3"].value is False
    assert ws["B3"].value is None


def test_sheet_writer_column_letters():
    from app.customers.sheet import column_letter

    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
