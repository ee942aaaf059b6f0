"""HTTP tests for /slips and /receivables: every page, the actions, refused roles, bad input, double submits."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal

from app.core.audit.services import Actor
from app.core.db import fetch
from app.ledger import receivables as ar
from app.ledger import services as slips
from app.core.dates import today
from app.ledger.common import clear_cache
from seed.factories import unique
from tests.ledger.factories import actor, issued_book, real_rma, series


async def _uid(client) -> int:
    return (await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"]


async def _as_actor(client, *roles) -> Actor:
    return Actor(user_id=await _uid(client), username=client.username, roles=frozenset(roles))


async def _count(sql: str, *args) -> int:
    return int((await fetch(sql, *args))[0]["n"])


# ------------------------------------------------------------------ slips

async def test_slip_pages_render_for_office(login_as):
    """The books list, reconciliation (summary, print, XLSX) answer for finance."""
    client = await login_as("finance")
    for url in ("/slips", "/slips?status=issued", "/slips/reconcile", "/slips/reconcile/print", "/slips/reconcile?month=junk"):
        response = await client.get(url)
        assert response.status_code == 200, url
    xlsx = await client.get("/slips/reconcile.xlsx?month=" + today().strftime("%Y-%m"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_finance_creates_and_issues_a_book(login_as):
    """Finance creates a book and issues it to a field technician over HTTP."""
    client = await login_as("finance")
    tech = await login_as("field")
    code = series()
    response = await client.post_form("/slips/books", {"series": code, "first_number": "1", "per_book": "5", "count": "2", "kind": "regular"})
    assert response.status_code == 303
    books = await fetch("SELECT id, version FROM slip_book WHERE series = {} ORDER BY first_number", code)
    assert len(books) == 2
    response = await client.post_form(f"/slips/books/{books[0]['id']}/issue", {"holder_user_id": str(await _uid(tech)), "version": str(books[0]["version"])})
    assert response.status_code == 303
    page = await client.get(f"/slips/books/{books[0]['id']}")
    assert page.status_code == 200 and 'id="n5"' in page.text


async def test_create_book_bad_input_400_nothing_written(login_as):
    """Bad input: 400, the message next to the field, nothing written."""
    client = await login_as("finance")
    code = series()
    response = await client.post_form("/slips/books", {"series": code, "first_number": "-3", "per_book": "5000", "count": "1"})
    assert response.status_code == 400
    assert "is-invalid" in response.text and "e-first_number" in response.text and "e-per_book" in response.text
    assert await _count("SELECT COUNT(*) AS n FROM slip_book WHERE series = {}", code) == 0


async def test_only_finance_issues_books(login_as):
    """Desk, field and manager cannot create or issue books (403, nothing written)."""
    code = series()
    for role in ("desk", "field", "manager"):
        client = await login_as(role)
        response = await client.post_form("/slips/books", {"series": code, "first_number": "1", "per_book": "5"})
        assert response.status_code == 403, role
    assert await _count("SELECT COUNT(*) AS n FROM slip_book WHERE series = {}", code) == 0


async def test_repairer_sees_only_own_book(login_as):
    """Field staff see their own book (/slips/mine) but not the list or another repairer's book."""
    finance_client = await login_as("finance")
    finance = await _as_actor(finance_client, "finance")
    me, other = await login_as("field"), await login_as("bench")
    mine = await issued_book(finance, await _as_actor(me, "field"), per_book=4)
    theirs = await issued_book(finance, await _as_actor(other, "bench"), per_book=4)
    page = await me.get("/slips/mine")
    assert page.status_code == 200 and f"{mine['series']} 1–4" in page.text
    assert (await me.get(f"/slips/books/{mine['id']}")).status_code == 200
    assert (await me.get(f"/slips/books/{theirs['id']}")).status_code == 403
    assert (await me.get("/slips")).status_code == 403
    assert (await me.get("/slips/reconcile")).status_code == 403


async def test_holder_records_slip_out_of_order_refused(login_as):
    """R-SLIP-02 over HTTP: the holder records the next number; a skip is refused with the message at the field."""
    finance = await actor("finance")
    me = await login_as("field")
    book = await issued_book(finance, await _as_actor(me, "field"), per_book=5)
    number = await real_rma()
    bad = await me.post_form(f"/slips/books/{book['id']}/use", {"number": "3", "job_type": "rma", "job_id": number, "amount": "10"})
    assert bad.status_code == 400 and "e-number" in bad.text
    assert await _count("SELECT COUNT(*) AS n FROM slip WHERE book_id = {} AND state = 'used'", book["id"]) == 0
    ok = await me.post_form(f"/slips/books/{book['id']}/use", {"number": "1", "job_type": "rma", "job_id": number, "amount": "10"})
    assert ok.status_code == 303


async def test_slip_use_form_refuses_jobs_that_do_not_exist(login_as):
    """#12.5 over HTTP: an RMA number that does not exist, a typed ticket number, and "other" without a note are
    each a 400 at their field and write nothing; "other" with a note is recorded and shown with it."""
    finance = await actor("finance")
    me = await login_as("field")
    book = await issued_book(finance, await _as_actor(me, "field"), per_book=5)
    url = f"/slips/books/{book['id']}/use"
    for data, field in (({"job_type": "rma", "job_id": "RMA-2026-999999"}, "e-job_id"),
                        ({"job_type": "ticket", "job_id": "T-9"}, "e-job_type"),
                        ({"job_type": "other", "job_id": ""}, "e-job_note")):
        bad = await me.post_form(url, {"number": "1", "amount": "10", **data})
        assert bad.status_code == 400 and field in bad.text, data
    assert await _count("SELECT COUNT(*) AS n FROM slip WHERE book_id = {} AND state = 'used'", book["id"]) == 0
    ok = await me.post_form(url, {"number": "1", "amount": "0", "job_type": "other", "job_note": "客户门店临时检修"})
    assert ok.status_code == 303
    page = await me.get(f"/slips/books/{book['id']}")
    assert "客户门店临时检修" in page.text


async def test_void_transfer_delay_handback_over_http(login_as):
    """Finance voids (with hand-in date), transfers to a backup slip, attaches a delay slip, and takes the rest back."""
    client = await login_as("finance")
    finance = await _as_actor(client, "finance")
    tech = await actor("field")
    book = await issued_book(finance, tech, per_book=5)
    await slips.create_books(finance, series=book["series"], first_number=500, per_book=3, kind="backup")
    s1 = (await fetch("SELECT * FROM slip WHERE book_id = {} AND number = 1", book["id"]))[0]
    bad = await client.post_form(f"/slips/{s1['id']}/void", {"reason": "", "handed_in_on": "", "version": str(s1["version"])})
    assert bad.status_code == 400 and "is-invalid" in bad.text
    ok = await client.post_form(f"/slips/{s1['id']}/void", {"reason": "写错", "handed_in_on": today().isoformat(), "version": str(s1["version"])})
    assert ok.status_code == 303
    stale = await client.post_form(f"/slips/{s1['id']}/void", {"reason": "again", "handed_in_on": today().isoformat(), "version": str(s1["version"])})
    assert stale.status_code == 409
    await slips.record_slip_use(tech, tech.user_id, 2, "rma", await real_rma(), Decimal("50"))
    s2 = (await fetch("SELECT * FROM slip WHERE book_id = {} AND number = 2", book["id"]))[0]
    moved = await client.post_form(f"/slips/{s2['id']}/transfer", {"to_number": "501", "signed_by": "张伟", "signed_on": today().isoformat(), "version": str(s2["version"])})
    assert moved.status_code == 303
    delay = await client.post_form(f"/slips/{s2['id']}/delay", {"reason": "等配件"})
    assert delay.status_code == 400  # the slip moved on: a delay slip attaches to a used slip
    no_version = await client.post_form(f"/slips/books/{book['id']}/handback", {"reason": "离职", "handed_on": today().isoformat()})
    assert no_version.status_code == 400  # a form without its version is refused, never "no check"
    version = (await slips.get_book(book["id"]))["version"]
    back = await client.post_form(f"/slips/books/{book['id']}/handback", {"reason": "离职", "handed_on": today().isoformat(), "version": str(version)})
    assert back.status_code == 303
    states = {r["number"]: r["state"] for r in await fetch("SELECT number, state FROM slip WHERE book_id = {}", book["id"])}
    assert states == {1: "void", 2: "transferred", 3: "returned", 4: "returned", 5: "returned"}


async def test_exchange_refused_then_done(login_as):
    """Exchange refused (400, message) while numbers are open; done once all are accounted for."""
    client = await login_as("finance")
    finance = await _as_actor(client, "finance")
    tech = await actor("field")
    book = await issued_book(finance, tech, per_book=2)
    [new] = await slips.create_books(finance, series=book["series"], first_number=100, per_book=2)
    refused = await client.post_form("/slips/exchange", {"holder_user_id": str(tech.user_id), "new_book_id": str(new)})
    assert refused.status_code == 400 and "1–2" in refused.text
    for n in (1, 2):
        await slips.record_slip_use(tech, tech.user_id, n, "ticket", f"X{n}", Decimal("1"))
    done = await client.post_form("/slips/exchange", {"holder_user_id": str(tech.user_id), "new_book_id": str(new)})
    assert done.status_code == 303
    assert (await slips.current_book(tech.user_id))["id"] == new


async def test_reconcile_detail_highlights_gap(login_as):
    """The per-repairer reconciliation lists every number and marks the gap."""
    client = await login_as("finance")
    finance = await _as_actor(client, "finance")
    tech = await actor("field")
    book = await issued_book(finance, tech, per_book=3)
    await fetch("UPDATE slip SET state = 'used', job_type = 'ticket', job_id = 'G', amount_fen = 100, used_at = {}, state_on = {} "
                "WHERE book_id = {} AND number = 3", dt.datetime.now(dt.timezone.utc), today(), book["id"])
    clear_cache()  # written without the services (no revision stamp)
    month = today().strftime("%Y-%m")
    page = await client.get(f"/slips/reconcile?month={month}&holder={tech.user_id}")
    assert page.status_code == 200
    assert page.text.count('class="row-missing"') >= 2  # numbers 1 and 2 are missing
    problems = await client.get(f"/slips/reconcile?month={month}&book={book['id']}&only=problems")
    assert problems.status_code == 200 and problems.text.count('class="row-missing"') == 2
    summary = await client.get(f"/slips/reconcile?month={month}")
    assert "row-missing" in summary.text
    printed = await client.get(f"/slips/reconcile/print?month={month}&holder={tech.user_id}")
    assert printed.status_code == 200 and "signatures" in printed.text
    xlsx = await client.get(f"/slips/reconcile.xlsx?month={month}&book={book['id']}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


# ------------------------------------------------------------------ receivables

async def test_receivable_pages_render(login_as):
    """Every receivables page answers for finance, desk, manager and gm."""
    for role in ("finance", "desk", "manager", "gm"):
        client = await login_as(role)
        for url in ("/receivables", "/receivables?status=overdue", "/receivables/statements", "/receivables/sales",
                    "/receivables/ledger", "/receivables/overdue", "/receivables/extensions", "/receivables/ageing",
                    "/receivables/calendar"):
            response = await client.get(url)
            assert response.status_code == 200, (role, url)
    client = await login_as("finance")
    for url in ("/receivables/ageing.xlsx", "/receivables/export.xlsx?status=all"):
        response = await client.get(url)
        assert response.status_code == 200 and response.content[:2] == b"PK", url


async def test_field_sees_only_own_sales_ledger(login_as):
    """Field staff open their own sales ledger; another technician's is refused; the receivables list is refused."""
    me = await login_as("field")
    other = await login_as("field")
    assert (await me.get("/receivables/ledger")).status_code == 200
    assert (await me.get(f"/receivables/ledger?tech={await _uid(other)}")).status_code == 403
    assert (await me.get("/receivables")).status_code == 403


async def test_sales_confirmation_registration(login_as):
    """Desk registers a sales confirmation; bad input 400 with messages; finance is refused."""
    desk = await login_as("desk")
    tech = await actor("field")
    name = unique("客户")
    bad = await desk.post_form("/receivables/sales", {"customer_name": name, "account_class": "retail", "amount": "abc", "sold_on": ""})
    assert bad.status_code == 400 and "e-amount" in bad.text and "e-sold_on" in bad.text
    assert await _count("SELECT COUNT(*) AS n FROM sales_confirmation WHERE customer_name = {}", name) == 0
    ok = await desk.post_form("/receivables/sales", {"customer_name": name, "account_class": "retail", "amount": "99.90",
                                                     "technician_user_id": str(tech.user_id), "sold_on": today().isoformat()})
    assert ok.status_code == 303
    assert await _count("SELECT COUNT(*) AS n FROM receivable WHERE customer_name = {} AND amount_fen = 9990", name) == 1
    finance = await login_as("finance")
    refused = await finance.post_form("/receivables/sales", {"customer_name": name, "account_class": "retail", "amount": "1", "sold_on": today().isoformat()})
    assert refused.status_code == 403


async def test_statement_workflow_over_http_and_print(login_as):
    """Desk drafts, manager reviews, finance checks and sends, finance takes a part payment; print view renders."""
    desk, manager, finance = await login_as("desk"), await login_as("manager"), await login_as("finance")
    desk_actor = await _as_actor(desk, "desk")
    name = unique("月结")
    await ar.post_receivable(desk_actor, "ticket", unique("T"), None, name, "monthly", Decimal("300.00"), "维修费", None)
    month = today().strftime("%Y-%m")
    listing = await desk.get(f"/receivables/statements?month={month}")
    assert name in listing.text
    drafted = await desk.post_form("/receivables/statements/draft", {"customer_name": name, "month": month})
    assert drafted.status_code == 303
    sid = int(re.search(r"/statements/(\d+)", drafted.headers["location"]).group(1))
    version = (await ar.get_statement(sid))["version"]
    assert (await finance.post_form(f"/receivables/statements/{sid}/move", {"verb": "review", "version": str(version)})).status_code == 403
    for client, verb in ((manager, "review"), (finance, "check"), (finance, "send")):
        version = (await ar.get_statement(sid))["version"]
        response = await client.post_form(f"/receivables/statements/{sid}/move", {"verb": verb, "version": str(version)})
        assert response.status_code == 303, (verb, response.text[:300])
    page = await finance.get(f"/receivables/statements/{sid}")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    too_much = await finance.post_form(f"/receivables/statements/{sid}/pay", {"token": token, "amount": "300.01", "received_on": today().isoformat(), "method": "transfer"})
    assert too_much.status_code == 400 and "e-amount" in too_much.text
    paid = await finance.post_form(f"/receivables/statements/{sid}/pay", {"token": token, "amount": "100.50", "received_on": today().isoformat(), "method": "transfer"})
    assert paid.status_code == 303
    again = await finance.post_form(f"/receivables/statements/{sid}/pay", {"token": token, "amount": "100.50", "received_on": today().isoformat(), "method": "transfer"})
    assert again.status_code == 303  # the same token: books once
    st = await ar.get_statement(sid)
    assert st["paid_fen"] == 10050 and len(st["payments"]) == 1
    printed = await finance.get(f"/receivables/statements/{sid}/print")
    assert printed.status_code == 200 and st["number"] in printed.text


async def test_double_submitted_payment_books_once_http(login_as):
    """Five simultaneous posts of the same payment form book one payment."""
    finance = await login_as("finance")
    desk = await actor("desk")
    rid = await ar.post_receivable(desk, "ticket", unique("T"), None, unique("零售"), "retail", Decimal("60"), "x", None)
    page = await finance.get(f"/receivables/{rid}")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    form = {"token": token, "amount": "60", "received_on": today().isoformat(), "method": "cash"}
    results = await asyncio.gather(*[finance.post_form(f"/receivables/{rid}/pay", form) for _ in range(5)])
    assert all(r.status_code in (303, 409) for r in results), [r.status_code for r in results]
    assert await _count("SELECT COUNT(*) AS n FROM ar_payment WHERE token = {}", token) == 1
    assert (await fetch("SELECT paid_fen FROM receivable WHERE id = {}", rid))[0]["paid_fen"] == 6000


async def test_only_finance_records_payments_http(login_as):
    """Desk and manager cannot record payments (403, nothing written)."""
    desk_actor = await actor("desk")
    rid = await ar.post_receivable(desk_actor, "ticket", unique("T"), None, unique("零售"), "retail", Decimal("5"), "x", None)
    for role in ("desk", "manager"):
        client = await login_as(role)
        response = await client.post_form(f"/receivables/{rid}/pay", {"token": ar.new_token(), "amount": "5", "received_on": today().isoformat(), "method": "cash"})
        assert response.status_code == 403
    assert await _count("SELECT COUNT(*) AS n FROM ar_payment WHERE receivable_id = {}", rid) == 0


async def test_extension_request_and_manager_decision_http(login_as):
    """Desk requests an extension; finance cannot decide; the manager approves from the list."""
    desk, finance, manager = await login_as("desk"), await login_as("finance"), await login_as("manager")
    rid = await ar.post_receivable(await _as_actor(desk, "desk"), "ticket", unique("T"), None, unique("客户"), "retail", Decimal("5"), "x", None)
    bad = await desk.post_form(f"/receivables/{rid}/extension", {"reason": "", "requested_due_date": ""})
    assert bad.status_code == 400 and "e-reason" in bad.text
    new_due = (today() + dt.timedelta(days=30)).isoformat()
    ok = await desk.post_form(f"/receivables/{rid}/extension", {"reason": "客户资金紧张", "requested_due_date": new_due})
    assert ok.status_code == 303
    eid = (await fetch("SELECT id FROM ar_extension WHERE receivable_id = {}", rid))[0]["id"]
    assert (await finance.post_form(f"/receivables/extensions/{eid}/decide", {"decision": "approve", "version": "1"})).status_code == 403
    assert (await manager.get("/receivables/extensions")).status_code == 200
    assert (await manager.post_form(f"/receivables/extensions/{eid}/decide", {"decision": "approve"})).status_code == 400
    assert (await manager.post_form(f"/receivables/extensions/{eid}/decide", {"decision": "approve", "version": "1"})).status_code == 303
    assert str((await fetch("SELECT due_date FROM receivable WHERE id = {}", rid))[0]["due_date"])[:10] == new_due
    home = await manager.get("/")
    assert "panel-ledger_manager" in home.text


async def test_manual_line_and_calendar_and_followup(login_as):
    """Finance posts a line (bad amount → 400), edits the calendar; the manager saves a follow-up note."""
    finance, manager = await login_as("finance"), await login_as("manager")
    name = unique("手工")
    bad = await finance.post_form("/receivables/new", {"customer_name": name, "account_class": "retail", "amount": "0", "posted_on": today().isoformat()})
    assert bad.status_code == 400 and "e-amount" in bad.text
    ok = await finance.post_form("/receivables/new", {"customer_name": name, "account_class": "retail", "amount": "12.30", "posted_on": today().isoformat()})
    assert ok.status_code == 303
    rid = (await fetch("SELECT id FROM receivable WHERE customer_name = {}", name))[0]["id"]
    assert (await manager.post_form(f"/receivables/{rid}/followup", {"note": "已电话催收"})).status_code == 303
    assert (await finance.post_form(f"/receivables/{rid}/followup", {"note": "x"})).status_code == 403
    day = dt.date(2032, 5, 3)
    assert (await finance.post_form("/receivables/calendar", {"day": day.isoformat(), "name": "劳动节"})).status_code == 303
    assert await _count("SELECT COUNT(*) AS n FROM work_calendar WHERE day = {}", day) == 1
    assert (await finance.post_form("/receivables/calendar", {"day": "not-a-date"})).status_code == 400
    assert (await manager.post_form("/receivables/calendar", {"day": day.isoformat()})).status_code == 403
    home = await finance.get("/")
    assert "panel-ledger_finance" in home.text


async def test_week_check_http(login_as):
    """Desk marks a technician's week reconciled; a second click says it is already done."""
    desk = await login_as("desk")
    tech = await actor("field")
    await ar.post_receivable(await _as_actor(desk, "desk"), "ticket", unique("T"), None, unique("客户"), "retail", Decimal("5"), "x", tech.user_id)
    page = await desk.get(f"/receivables/ledger?tech={tech.user_id}")
    assert page.status_code == 200 and "/receivables/ledger/check" in page.text
    week = today().isoformat()
    assert (await desk.post_form("/receivables/ledger/check", {"tech": str(tech.user_id), "week": week})).status_code == 303
    assert (await desk.post_form("/receivables/ledger/check", {"tech": str(tech.user_id), "week": week})).status_code == 303
    assert await _count("SELECT COUNT(*) AS n FROM ar_week_check WHERE technician_user_id = {}", tech.user_id) == 1


async def test_two_finance_users_void_same_slip_http(login_as):
    """Two finance users submit the void of the same number at once: one 303, the other 409; one void row."""
    f1, f2 = await login_as("finance"), await login_as("finance")
    finance = await _as_actor(f1, "finance")
    tech = await actor("field")
    book = await issued_book(finance, tech, per_book=3)
    s1 = (await fetch("SELECT * FROM slip WHERE book_id = {} AND number = 1", book["id"]))[0]
    form = {"reason": "写错", "handed_in_on": today().isoformat(), "version": str(s1["version"])}
    results = await asyncio.gather(f1.post_form(f"/slips/{s1['id']}/void", form), f2.post_form(f"/slips/{s1['id']}/void", form))
    assert sorted(r.status_code for r in results) == [303, 409]
    assert await _count("SELECT COUNT(*) AS n FROM slip_void WHERE slip_id = {}", s1["id"]) == 1


async def test_receivables_export_writes_formula_text_as_text(login_as):
    """A description typed as a formula is exported as text, never as a live formula (CSV/XLSX injection)."""
    import io
    import zipfile

    finance = await login_as("finance")
    name = unique("公式")
    evil = '=HYPERLINK("http://evil.example/","click")'
    ok = await finance.post_form("/receivables/new", {"customer_name": name, "account_class": "retail", "amount": "1.00",
                                                      "posted_on": today().isoformat(), "description": evil})
    assert ok.status_code == 303
    response = await finance.get("/receivables/export.xlsx?status=all&q=" + name)
    assert response.status_code == 200
    sheet = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "evil.example" in sheet


async def test_week_check_without_a_technician_is_refused_not_a_crash(login_as):
    """X-05: a week check with no or an unknown technician answers 400 and writes nothing (it was a 500)."""
    desk = await login_as("desk")
    before = await _count("SELECT COUNT(*) AS n FROM ar_week_check")
    for tech in ("", "999999999"):
        response = await desk.post_form("/receivables/ledger/check", {"tech": tech, "week": today().isoformat()})
        assert response.status_code == 400, tech
    assert await _count("SELECT COUNT(*) AS n FROM ar_week_check") == before


async def test_ledger_settings_listed_and_used(login_as):
    """The three seeded ledger settings are on /admin/settings (labelled, editable); the cache stamp is not a setting."""
    admin = await login_as("admin")
    page = await admin.get("/admin/settings")
    assert page.status_code == 200
    for key in ("ledger.retail_due_working_days", "ledger.monthly_due_days", "ledger.book_size"):
        assert f'name="{key}"' in page.text, key
    assert not await fetch("SELECT key FROM app_setting WHERE key = 'ledger.rev'")  # the cache stamp is not a setting


async def test_statement_moves_leave_a_history(login_as):
    """Every statement move goes through core.status.move(): one status_change row per move, in order."""
    desk, manager = await login_as("desk"), await login_as("manager")
    desk_actor = await _as_actor(desk, "desk")
    name = unique("月结")
    await ar.post_receivable(desk_actor, "ticket", unique("T"), None, name, "monthly", Decimal("10.00"), "x", None)
    sid = await ar.draft_statement(desk_actor, name, today().strftime("%Y-%m"))
    version = (await ar.get_statement(sid))["version"]
    ok = await manager.post_form(f"/receivables/statements/{sid}/move", {"verb": "review", "version": str(version)})
    assert ok.status_code == 303
    stale = await manager.post_form(f"/receivables/statements/{sid}/move", {"verb": "review", "version": str(version)})
    assert stale.status_code == 409
    rows = await fetch("SELECT from_status, to_status, action FROM status_change WHERE table_name = 'ar_statement' "
                       "AND row_id = {} ORDER BY version", sid)
    assert [(r["from_status"], r["to_status"], r["action"]) for r in rows] == [("draft", "reviewed", "review")]


# ---------------------------------------------------------------- #12.6: the drill-down agrees with the summary

_K = re.compile(r'data-k="([a-z_]+)">(\d+)<')


def _counts(html: str, row_id: str | None = None) -> dict[str, int]:
    """The numbers marked data-k on a page (or in the summary row `row_id`)."""
    if row_id is not None:
        html = html[html.index(f'id="{row_id}"'):]
        html = html[:html.index("</tr>")]
    return {k: int(v) for k, v in _K.findall(html)}


async def _slip_state(book_id: int, number: int, state: str, when: dt.datetime, holder: int | None) -> None:
    await fetch("UPDATE slip SET state = {}, job_type = 'other', job_note = '测试', amount_fen = 100, used_at = {}, "
                "state_on = {}, holder_user_id = {} WHERE book_id = {} AND number = {}",
                state, when, when.date(), holder, book_id, number)


async def test_reconcile_drill_down_honours_the_month_and_backup_books(login_as):
    """A known data set over October and November: the repairer's summary row and the drill-down show the same
    numbers for each month; numbers of a backup book drawn on out of sequence are neither gaps nor out of order."""
    client = await login_as("finance")
    finance = await _as_actor(client, "finance")
    tech = await actor("field")
    book = await issued_book(finance, tech, per_book=10)
    [backup] = await slips.create_books(finance, series=book["series"], first_number=900, per_book=5, kind="backup")
    at = lambda m, d, h=10: dt.datetime(2026, m, d, h, tzinfo=dt.timezone.utc)  # noqa: E731
    for number, state, when in ((1, "used", at(10, 5)), (2, "used", at(10, 6)),      # October: 2 used, in order
                                (3, "used", at(11, 3)), (4, "used", at(11, 2)),      # November: 4 used before 3
                                (6, "used", at(11, 10)), (7, "void", at(11, 11))):   # … 5 skipped (a gap), 7 voided
        await _slip_state(book["id"], number, state, when, tech.user_id)
    for number, when in ((903, at(11, 4)), (901, at(11, 6))):  # backup slips for two late repairs, 903 first
        await _slip_state(backup, number, "used", when, tech.user_id)
    clear_cache()  # written without the services (no revision stamp)
    expected = {"2026-10": {"used": 2, "void": 0, "missing": 0, "out_of_order": 0},
                "2026-11": {"used": 5, "void": 1, "missing": 1, "out_of_order": 1}}
    for month, want in expected.items():
        summary = await client.get(f"/slips/reconcile?month={month}")
        row = _counts(summary.text, f"rec-{tech.user_id}")
        assert {k: row[k] for k in want} == want, (month, row)
        detail = await client.get(f"/slips/reconcile?month={month}&holder={tech.user_id}")
        shown = _counts(detail.text)
        assert {k: shown[k] for k in want} == want, (month, shown)
    # The whole book still shows every number (and the backup book's unused 900/902 are not missing).
    rows = await slips.book_slips([book["id"], backup])
    assert [s["number"] for s in rows if s["missing"]] == [5]
    assert [s["number"] for s in rows if s["out_of_order"]] == [4]


# ---------------------------------------------------------------- #12: Chinese wording in the ledger


async def test_chinese_wording_of_ledger_pages(login_as):
    """台账 (not 台帐); a void says 已作废 (not 已保存); the book button is not the ambiguous 未收; a statement's
    period is its month (2026年10月, not 2026年10月31日); the Monday review is about overdue receivables."""
    client = await login_as("finance")
    finance = await _as_actor(client, "finance")
    bench = await login_as("bench")
    assert "我的销售台账" in (await bench.get("/")).text and "台帐" not in (await bench.get("/receivables/ledger")).text
    tech = await actor("field")
    book = await issued_book(finance, tech, per_book=3)
    s1 = (await fetch("SELECT * FROM slip WHERE book_id = {} AND number = 1", book["id"]))[0]
    voided = await client.post_form(f"/slips/{s1['id']}/void", {"reason": "写错", "handed_in_on": today().isoformat(),
                                                               "version": str(s1["version"])})
    assert voided.status_code == 303
    page = await client.get(voided.headers["location"].split("#")[0])
    assert "已作废" in page.text and "已保存" not in page.text
    books = await client.get(f"/slips?holder={tech.user_id}")
    assert "查看本册" in books.text and ">未收<" not in books.text
    desk = await _as_actor(await login_as("desk"), "desk")
    name = unique("月结")
    await ar.post_receivable(desk, "ticket", unique("T"), None, name, "monthly", Decimal("10"), "服务费", None,
                             posted_on=dt.date(2026, 10, 20))
    sid = await ar.draft_statement(desk, name, "2026-10")
    listing = await client.get("/receivables/statements?status=draft")
    assert "2026年10月" in listing.text and "2026年10月31日" not in listing.text
    detail = await client.get(f"/receivables/statements/{sid}")
    assert "2026年10月" in detail.text and "2026年10月31日" not in detail.text
    assert "周一逾期应收款审核" in (await client.get("/receivables/overdue")).text
