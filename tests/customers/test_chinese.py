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
