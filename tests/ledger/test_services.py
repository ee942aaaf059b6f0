"""Rule tests for the repair-slip ledger (SPEC §G, R-SLIP-01…08)."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from app.core.db import fetch, write_transaction
from app.ledger import services as slips
from app.core.errors import DomainError
from app.core.dates import today
from app.ledger.common import clear_cache
from tests.ledger.factories import actor, backup_book, issued_book, real_rma, repairer, series


async def _slip(book_id: int, number: int) -> dict:
    rows = await fetch("SELECT * FROM slip WHERE book_id = {} AND number = {}", book_id, number)
    return rows[0]


async def test_r_slip_01_create_books_numbers_every_slip():
    """R-SLIP-01: creating 3 books of 50 makes 150 numbered, unused slips."""
    finance = await actor("finance")
    code = series()
    ids = await slips.create_books(finance, series=code, first_number=1001, per_book=50, count=3)
    assert len(ids) == 3
    rows = await fetch("SELECT COUNT(*) AS n, MIN(number) AS lo, MAX(number) AS hi FROM slip WHERE series = {}", code)
    assert (rows[0]["n"], rows[0]["lo"], rows[0]["hi"]) == (150, 1001, 1150)


async def test_r_slip_01_overlapping_book_refused():
    """R-SLIP-01: a book overlapping existing numbers of the series is refused, nothing written."""
    finance = await actor("finance")
    code = series()
    await slips.create_books(finance, series=code, first_number=1, per_book=50)
    with pytest.raises(DomainError) as err:
        await slips.create_books(finance, series=code, first_number=40, per_book=50)
    assert "first_number" in err.value.errors
    assert (await fetch("SELECT COUNT(*) AS n FROM slip_book WHERE series = {}", code))[0]["n"] == 1


async def test_r_slip_01_only_finance_creates_books():
    """R-SLIP-01: only finance issues books."""
    desk = await actor("desk")
    with pytest.raises(DomainError) as err:
        await slips.create_books(desk, series=series(), first_number=1, per_book=5)
    assert err.value.status == 403


async def test_r_slip_01_one_book_per_repairer():
    """R-SLIP-01: a repairer holds one book at a time; a second issue is refused."""
    finance, tech = await actor("finance"), await repairer()
    await issued_book(finance, tech)
    [other] = await slips.create_books(finance, series=series(), first_number=1, per_book=5)
    with pytest.raises(DomainError) as err:
        await slips.issue_book(finance, other, tech.user_id)
    assert "holder_user_id" in err.value.errors
    assert (await slips.get_book(other))["status"] == "stock"


async def test_r_slip_01_only_repairers_hold_books():
    """R-SLIP-01: books go to field technicians or bench engineers only."""
    finance, clerk = await actor("finance"), await actor("warehouse")
    [book] = await slips.create_books(finance, series=series(), first_number=1, per_book=5)
    with pytest.raises(DomainError):
        await slips.issue_book(finance, book, clerk.user_id)


async def test_r_slip_02_next_number_in_order():
    """R-SLIP-02: the holder's numbers are used in order."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=5)
    for n in (1, 2, 3):
        await slips.record_slip_use(tech, tech.user_id, n, "ticket", f"T{book['id']}-{n}", Decimal("10.00"))
    assert await slips.next_number_for(tech.user_id) == 4


async def test_r_slip_02_out_of_order_refused_unless_skipped_voided():
    """R-SLIP-02: using a later number is refused until each skipped number is voided."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=10)
    with pytest.raises(DomainError) as err:
        await slips.record_slip_use(tech, tech.user_id, 3, "ticket", "X1", Decimal("5"))
    assert "1–2" in err.value.message
    assert (await _slip(book["id"], 3))["state"] == "unused"
    s1 = await _slip(book["id"], 1)
    await slips.void_slip(finance, s1["id"], reason="mis-written", handed_in_on=today(), version=s1["version"])
    with pytest.raises(DomainError):
        await slips.record_slip_use(tech, tech.user_id, 3, "ticket", "X1", Decimal("5"))
    s2 = await _slip(book["id"], 2)
    await slips.void_slip(tech, s2["id"], reason="torn", handed_in_on=None, version=s2["version"])
    await slips.record_slip_use(tech, tech.user_id, 3, "ticket", "X1", Decimal("5"))
    assert (await _slip(book["id"], 3))["state"] == "used"


async def test_r_slip_02_used_number_refused_again():
    """R-SLIP-02: a number already used cannot be used again."""
    finance, tech = await actor("finance"), await repairer()
    await issued_book(finance, tech, per_book=5)
    await slips.record_slip_use(tech, tech.user_id, 1, "ticket", "A", Decimal("1"))
    with pytest.raises(DomainError):
        await slips.record_slip_use(tech, tech.user_id, 1, "ticket", "B", Decimal("1"))


async def test_r_slip_03_every_field_required():
    """R-SLIP-03: a slip without its job or amount is refused with the field named."""
    finance, tech = await actor("finance"), await repairer()
    await issued_book(finance, tech, per_book=5)
    with pytest.raises(DomainError) as err:
        await slips.record_slip_use(tech, tech.user_id, 1, "", "", None)
    assert {"job_type", "amount"} <= set(err.value.errors)
    with pytest.raises(DomainError) as err:
        await slips.record_slip_use(tech, tech.user_id, 1, "rma", "", Decimal("1"))
    assert set(err.value.errors) == {"job_id"}


async def test_r_slip_02_record_use_joins_caller_transaction():
    """record_slip_use joins the caller's transaction: a rollback there undoes the use."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=5)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with write_transaction():
            await slips.record_slip_use(tech, tech.user_id, 1, "ticket", "R1", Decimal("3"))
            raise Boom
    assert (await _slip(book["id"], 1))["state"] == "unused"


async def test_r_slip_02_concurrent_use_of_same_number_books_once():
    """R-SLIP-02: 20 simultaneous uses of the next number — exactly one succeeds."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=5)
    results = await asyncio.gather(*[slips.record_slip_use(tech, tech.user_id, 1, "ticket", f"C{i}", Decimal("2"))
                                     for i in range(20)], return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, int)) == 1
    assert all(isinstance(r, (int, DomainError)) for r in results), results
    assert (await _slip(book["id"], 1))["state"] == "used"


async def test_r_slip_04_void_requires_reason_and_hand_in_date():
    """R-SLIP-04: finance voids with a reason and the hand-in date; missing fields are named, nothing written."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=5)
    s = await _slip(book["id"], 1)
    with pytest.raises(DomainError) as err:
        await slips.void_slip(finance, s["id"], reason=" ", handed_in_on=None, version=s["version"])
    assert {"reason", "handed_in_on"} <= set(err.value.errors)
    assert (await _slip(book["id"], 1))["state"] == "unused"


async def test_r_slip_04_concurrent_void_one_wins():
    """Two finance users voiding the same slip at once: one wins, the other gets 409 (compare-and-set on version)."""
    finance, finance2, tech = await actor("finance"), await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=5)
    s = await _slip(book["id"], 2)
    results = await asyncio.gather(
        *[slips.void_slip(who, s["id"], reason=f"r{i}", handed_in_on=today(), version=s["version"])
          for i, who in enumerate([finance, finance2] * 5)], return_exceptions=True)
    assert sum(1 for r in results if r is None) == 1
    assert all(isinstance(r, DomainError) and r.status == 409 for r in results if r is not None)
    assert (await fetch("SELECT COUNT(*) AS n FROM slip_void WHERE slip_id = {}", s["id"]))[0]["n"] == 1


async def test_r_slip_04_other_repairer_cannot_void():
    """R-SLIP-04: only finance or the holder voids a number."""
    finance, tech, other = await actor("finance"), await repairer(), await repairer()
    book = await issued_book(finance, tech, per_book=5)
    s = await _slip(book["id"], 1)
    with pytest.raises(DomainError) as err:
        await slips.void_slip(other, s["id"], reason="x", handed_in_on=None, version=s["version"])
    assert err.value.status == 403


async def test_r_slip_01_exchange_refused_while_numbers_unaccounted():
    """R-SLIP-01: the exchange is refused while any number is unused or a void stub is not handed in."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=3)
    [new] = await slips.create_books(finance, series=book["series"], first_number=100, per_book=3)
    await slips.record_slip_use(tech, tech.user_id, 1, "ticket", "E1", Decimal("1"))
    with pytest.raises(DomainError) as err:
        await slips.exchange_book(finance, tech.user_id, new)
    assert "2–3" in err.value.message
    for n in (2, 3):
        s = await _slip(book["id"], n)
        await slips.void_slip(tech, s["id"], reason="blot", handed_in_on=None, version=s["version"])
    with pytest.raises(DomainError) as err:
        await slips.exchange_book(finance, tech.user_id, new)
    assert "2–3" in err.value.message  # stubs not handed in yet (R-SLIP-04)
    assert await slips.receive_void_stubs(finance, book["id"]) == 2
    await slips.exchange_book(finance, tech.user_id, new)
    assert (await slips.get_book(book["id"]))["status"] == "closed"
    assert (await slips.current_book(tech.user_id))["id"] == new


async def test_r_slip_05_transfer_to_backup_slip():
    """R-SLIP-05: the job moves to a backup slip; original → transferred, backup → used, who signed recorded."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=5)
    await backup_book(finance, book["series"], 900)
    number = await real_rma()
    await slips.record_slip_use(tech, tech.user_id, 1, "rma", number, Decimal("88.50"))
    s = await _slip(book["id"], 1)
    with pytest.raises(DomainError) as err:
        await slips.transfer_slip(finance, s["id"], to_number=2, signed_by="王", signed_on=today(), version=s["version"])
    assert "to_number" in err.value.errors  # number 2 is not a backup slip
    await slips.transfer_slip(finance, s["id"], to_number=901, signed_by="王经理", signed_on=today(), version=s["version"])
    assert (await _slip(book["id"], 1))["state"] == "transferred"
    target = (await fetch("SELECT * FROM slip WHERE series = {} AND number = 901", book["series"]))[0]
    assert (target["state"], target["job_id"], target["amount_fen"], target["holder_user_id"]) == ("used", number, 8850, tech.user_id)


async def test_r_slip_06_delay_slip_attached():
    """R-SLIP-06: a delay slip with its reason attaches to a used slip only."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=5)
    s2 = await _slip(book["id"], 2)
    with pytest.raises(DomainError):
        await slips.add_delay(finance, s2["id"], reason="parts late")
    await slips.record_slip_use(tech, tech.user_id, 1, "ticket", "D1", Decimal("0"))
    s1 = await _slip(book["id"], 1)
    await slips.add_delay(tech, s1["id"], reason="parts late", delay_ref="YS-1", new_due_on=today() + dt.timedelta(days=3))
    assert (await _slip(book["id"], 1))["has_delay"]


async def test_r_slip_07_hand_back_unused_numbers():
    """R-SLIP-07: a leaving repairer hands back every unused number; the book closes."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=6)
    await slips.record_slip_use(tech, tech.user_id, 1, "ticket", "H1", Decimal("1"))
    with pytest.raises(DomainError) as err:
        await slips.hand_back(finance, book["id"], reason="", handed_on=None)
    assert {"reason", "handed_on"} <= set(err.value.errors)
    n = await slips.hand_back(finance, book["id"], reason="leaves the company", handed_on=today())
    assert n == 5
    hb = (await fetch("SELECT * FROM slip_handback WHERE book_id = {}", book["id"]))[0]
    assert (hb["from_number"], hb["to_number"], hb["count"]) == (2, 6, 5)
    assert (await slips.get_book(book["id"]))["status"] == "closed"
    assert await slips.current_book(tech.user_id) is None


async def test_r_slip_08_reconciliation_flags_gaps_out_of_order_and_ties_to_receivables():
    """R-SLIP-08: gaps and out-of-order use are listed; the slip total ties to the receivables of the same jobs."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=6)
    now = dt.datetime.now(dt.timezone.utc)
    # Historic paper data: 1 used late, 2 used early (out of order), 3 missing, 4 used.
    for n, hours in ((1, 5), (2, 1), (4, 6)):
        await fetch("UPDATE slip SET state = 'used', job_type = 'ticket', job_id = {}, amount_fen = 1000, used_at = {}, "
                    "state_on = {} WHERE book_id = {} AND number = {}", f"J{book['id']}-{n}", now - dt.timedelta(hours=10 - hours),
                    today(), book["id"], n)
    clear_cache()  # the rows above were written without the services (no revision stamp)
    await slips.post_receivable(finance, "ticket", f"J{book['id']}-1", None, "甲公司", "retail", Decimal("10.00"), "fee", tech.user_id)
    await slips.post_receivable(finance, "ticket", f"J{book['id']}-2", None, "甲公司", "retail", Decimal("9.99"), "fee", tech.user_id)
    rows = await slips.book_slips([book["id"]])
    by = {r["number"]: r for r in rows}
    assert by[3]["missing"] and not by[5]["missing"]
    assert by[2]["out_of_order"] and not by[1]["out_of_order"]
    assert by[2]["mismatch"] and by[4]["mismatch"] and not by[1]["mismatch"]
    summary = slips.summarize(rows)
    assert (summary["amount_fen"], summary["receivable_fen"], summary["difference_fen"]) == (3000, 1999, 1001)
    month = today().strftime("%Y-%m")
    rec = await slips.reconcile_month(month)
    mine = [r for r in rec["rows"] if r["uid"] == tech.user_id][0]
    assert (mine["used"], mine["gaps"], mine["out_of_order"], mine["amount_fen"], mine["receivable_fen"]) == (3, 1, 1, 3000, 1999)


async def test_cached_reports_follow_every_write():
    """The cached month reconciliation and ageing change at once after a write through the services."""
    from app.ledger import receivables as ar

    finance, tech = await actor("finance"), await repairer()
    await issued_book(finance, tech, per_book=3)
    month = today().strftime("%Y-%m")
    assert not [r for r in (await slips.reconcile_month(month))["rows"] if r["uid"] == tech.user_id]
    await slips.record_slip_use(tech, tech.user_id, 1, "ticket", f"CACHE{tech.user_id}", Decimal("5"))
    mine = [r for r in (await slips.reconcile_month(month))["rows"] if r["uid"] == tech.user_id]
    assert mine and mine[0]["used"] == 1 and mine[0]["amount_fen"] == 500
    name = f"缓存客户{tech.user_id}"
    rid = await slips.post_receivable(finance, "ticket", f"CACHE{tech.user_id}", None, name, "retail", Decimal("5"), "x", tech.user_id)
    assert [c for c in (await ar.ageing())["all_customers"] if c["customer_name"] == name][0]["b0"] == 500
    await ar.record_payment(finance, ar.new_token(), amount="5", received_on=today(), method="cash", receivable_id=rid)
    assert not [c for c in (await ar.ageing())["all_customers"] if c["customer_name"] == name]


# ---------------------------------------------------------------- #12.5: a used slip names a real job


async def test_r_slip_03_unknown_rma_number_refused_nothing_written():
    """A slip naming an RMA number that does not exist is refused at the field; the slip stays unused, no audit."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=3)
    before = (await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'slip.used'"))[0]["n"]
    with pytest.raises(DomainError) as err:
        await slips.record_slip_use(tech, tech.user_id, 1, "rma", "RMA-2026-999999", Decimal("10"))
    assert set(err.value.errors) == {"job_id"} and err.value.status == 400
    assert (await _slip(book["id"], 1))["state"] == "unused"
    assert (await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'slip.used'"))[0]["n"] == before


async def test_r_slip_03_real_rma_accepted_in_any_case():
    """A real RMA number is accepted (typed in lower case too) and stored as the RMA spells it."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=3)
    number = await real_rma()
    await slips.record_slip_use(tech, tech.user_id, 1, "rma", number.lower(), Decimal("10"))
    s = await _slip(book["id"], 1)
    assert (s["state"], s["job_type"], s["job_id"]) == ("used", "rma", number)


async def test_r_slip_03_other_job_needs_a_note():
    """An "other" job is accepted only with a note saying what it was; an unknown job kind is refused."""
    finance, tech = await actor("finance"), await repairer()
    book = await issued_book(finance, tech, per_book=3)
    with pytest.raises(DomainError) as err:
        await slips.record_slip_use(tech, tech.user_id, 1, "other", "", Decimal("0"))
    assert set(err.value.errors) == {"job_note"}
    with pytest.raises(DomainError) as err:
        await slips.record_slip_use(tech, tech.user_id, 1, "whatever", "X1", Decimal("0"))
    assert set(err.value.errors) == {"job_type"}
    assert (await _slip(book["id"], 1))["state"] == "unused"
    await slips.record_slip_use(tech, tech.user_id, 1, "other", "", Decimal("0"), job_note="展会现场临时调试")
    s = await _slip(book["id"], 1)
    assert (s["state"], s["job_type"], s["job_note"]) == ("used", "other", "展会现场临时调试")


# ---------------------------------------------------------------- #12.7: demo numbers come from the live counters


async def test_seeded_slip_jobs_draw_numbers_a_new_rma_never_reuses():
    """The demo seed numbers its slip jobs from the same counters as live documents: a receivable or slip it
    writes names an RMA / service-slip number that the next real RMA does not get again."""
    from app.core.db import write_transaction
    from app.core.numbers import next_number
    from seed.ledger import number_jobs

    day = today()
    rows = [[0, "WX", n, "used", None, day, None, kind, "", 100, False, 1, None]
            for n, kind in enumerate(("rma", "ticket", "rma"))]
    await number_jobs(rows)
    named = [r[8] for r in rows]
    assert named[0].startswith("RMA-") and named[2].startswith("RMA-") and named[1].startswith("FW-")
    assert len(set(named)) == 3
    async with write_transaction():
        fresh = (await next_number("rma", entity_type="rma", today=day)).formatted
    assert fresh not in named and fresh > max(named[0], named[2])
