"""Repair-slip ledger services (SPEC §G): books, strict sequence, void/transfer/delay/hand-back
(the reads and the reconciliation live in app.ledger.slip_reports, re-exported here). Each write
function owns its transaction (or joins the caller's one where documented), enforces the rule it cites and writes the audit event in the same transaction.

Cross-domain entry points:
* `record_slip_use(actor, holder_user_id, number, job_type, job_id, amount)` — tickets / bench
  record the paper slip a job was written on (R-SLIP-02/03).
* `post_receivable(...)` (re-exported from app.ledger.receivables) — any domain posts a charge.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.core.audit.services import Actor, record
from app.core.db import fetch, utcnow
from app.core.i18n import _
from app.core.errors import DomainError, not_found, refused
from app.core.status import update_versioned
from app.core.rows import insert, update
from app.ledger.slip_reports import (STATES, book_slips, books_to_exchange, get_book, holder_books_in_month,  # noqa: F401
                                     in_month, list_books, reconcile_month, stock_books, summarize)
from app.ledger.status import BOOK_TRANSITIONS, SLIP_TRANSITIONS
from app.ledger.tables import Slip, SlipBook, SlipDelay, SlipHandback, SlipTransfer, SlipVoid
from app.core.dates import as_date, today
from app.core.db import is_unique_violation
from app.ledger.common import can, carries_books, ledger_tx, month_bounds, moved, user_row  # noqa: F401
from app.core.money import from_fen, to_fen

MAX_BOOK = 1000


def _require_finance(actor: Actor) -> None:
    if not can(actor, "ledger.slips.manage"):
        raise refused(_("Only finance may do this."))


def _stale(what: str = "") -> DomainError:
    return DomainError(what or _("Someone else changed this meanwhile. Reload and try again."), status=409)


# ---------------------------------------------------------------- books (R-SLIP-01)

# long: field checks, then books and their numbers in chunks in one transaction (one unit, R-SLIP-01)
async def create_books(actor: Actor, *, series: str, first_number: int, per_book: int, count: int = 1,
                       kind: str = "regular", note: str = "") -> list[int]:
    """Create `count` books of `per_book` consecutive numbers starting at `first_number` (finance only).

    Side effects: slip_book rows, one slip row per number, audit `slip.book_created`.
    """
    _require_finance(actor)
    errors: dict[str, str] = {}
    series = (series or "").strip().upper()
    if not series or len(series) > 20 or not series.replace("-", "").isalnum():
        errors["series"] = _("Enter a series code of letters and digits, such as WX.")
    if first_number is None or first_number <= 0:
        errors["first_number"] = _("Enter the first number of the book (a positive whole number).")
    if per_book is None or not 1 <= per_book <= MAX_BOOK:
        errors["per_book"] = _("A book holds 1 to %(n)s slips.", n=MAX_BOOK)
    if count is None or not 1 <= count <= 50:
        errors["count"] = _("Create 1 to 50 books at a time.")
    if kind not in ("regular", "backup"):
        errors["kind"] = _("Choose a book kind.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    last = first_number + per_book * count - 1
    ids: list[int] = []
    async with ledger_tx():
        clash = await fetch("SELECT number FROM slip WHERE series = {} AND number BETWEEN {} AND {} ORDER BY number LIMIT 1",
                            series, first_number, last)
        if clash:
            raise DomainError(_("Number %(n)s of series %(s)s is already in a book.", n=clash[0]["number"], s=series),
                              errors={"first_number": _("These numbers overlap an existing book.")})
        now = utcnow()
        status = "issued" if kind == "backup" else "stock"
        for i in range(count):
            first = first_number + i * per_book
            try:
                book_id = await insert(SlipBook, returning=SlipBook.id, series=series, first_number=first,
                                       last_number=first + per_book - 1, kind=kind, status=status, note=note[:200],
                                       version=1, created_at=now, updated_at=now)
            except Exception as exc:  # unique (series, first_number) under a concurrent create
                if is_unique_violation(exc):
                    raise DomainError(_("These numbers overlap an existing book."),
                                      errors={"first_number": _("These numbers overlap an existing book.")}) from exc
                raise
            ids.append(book_id)
            numbers = list(range(first, first + per_book))
            for start in range(0, len(numbers), 400):
                chunk = numbers[start:start + 400]
                values = ", ".join("({}, {}, {}, 'unused', 1, {})" for _n in chunk)
                args: list[Any] = []
                for n in chunk:
                    args += [book_id, series, n, now]
                try:
                    # raw-sql: one multi-row INSERT per 400 numbers of the book
                    await fetch(f"INSERT INTO slip (book_id, series, number, state, version, updated_at) VALUES {values}", *args)
                except Exception as exc:
                    if is_unique_violation(exc):
                        raise DomainError(_("These numbers overlap an existing book."),
                                          errors={"first_number": _("These numbers overlap an existing book.")}) from exc
                    raise
            await record(actor, "slip.book_created", "slip_book", book_id,
                         after={"series": series, "first": first, "last": first + per_book - 1, "kind": kind})
    return ids


async def current_book(holder_user_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM slip_book WHERE holder_user_id = {} AND status = 'issued' AND kind = 'regular'",
                       holder_user_id)
    return rows[0] if rows else None


async def _check_holder(holder_user_id: int | None) -> dict:
    holder = await user_row(holder_user_id)
    if holder is None or not holder["is_active"]:
        raise DomainError(_("Choose an active repairer."), errors={"holder_user_id": _("Choose an active repairer.")})
    if not carries_books(holder["role_set"]):
        raise DomainError(_("Only field technicians and bench engineers carry slip books."),
                          errors={"holder_user_id": _("Only field technicians and bench engineers carry slip books.")})
    return holder


async def _issue_in_tx(actor: Actor, book_id: int, holder: dict, version: int | None, on: dt.date) -> None:
    # a stock book is always a regular one (backup books are created issued to the office)
    try:
        row = await moved("slip_book", book_id, version, BOOK_TRANSITIONS["issue"], actor,
                          _("This book is no longer in stock (someone issued it meanwhile)."),
                          sets={"holder_user_id": holder["id"], "holder_name": holder["display"], "issued_on": on},
                          returning="id, series, first_number, last_number")
    except DomainError:
        raise
    except Exception as exc:  # the partial unique index: one issued book per holder (R-SLIP-01)
        if is_unique_violation(exc):
            raise DomainError(_("%(name)s already holds a book; exchange it instead.", name=holder["display"]),
                              errors={"holder_user_id": _("This repairer already holds a book.")}) from exc
        raise
    rows = [row]
    await update(Slip, Slip.book_id == book_id, holder_user_id=holder["id"])
    await record(actor, "slip.book_issued", "slip_book", book_id,
                 after={"holder_user_id": holder["id"], "holder": holder["display"], "first": rows[0]["first_number"],
                        "last": rows[0]["last_number"]})


async def issue_book(actor: Actor, book_id: int, holder_user_id: int | None, *, version: int | None = None) -> None:
    """R-SLIP-01: finance issues a book from stock to a repairer who holds none."""
    _require_finance(actor)
    holder = await _check_holder(holder_user_id)
    async with ledger_tx():
        held = await current_book(holder["id"])
        if held:
            raise DomainError(
                _("%(name)s already holds book %(first)s–%(last)s; exchange it instead.", name=holder["display"],
                  first=held["first_number"], last=held["last_number"]),
                errors={"holder_user_id": _("This repairer already holds a book.")})
        await _issue_in_tx(actor, book_id, holder, version, today())


async def unaccounted(book_id: int) -> dict:
    """Numbers that stop a book exchange: unused ones, and voids whose stub finance has not received."""
    unused = await fetch("SELECT number FROM slip WHERE book_id = {} AND state = 'unused' ORDER BY number", book_id)
    stubs = await fetch(
        "SELECT s.number FROM slip_void v JOIN slip s ON s.id = v.slip_id WHERE s.book_id = {} AND v.handed_in_on IS NULL "
        "ORDER BY s.number", book_id)
    return {"unused": [r["number"] for r in unused], "stubs": [r["number"] for r in stubs]}


def _ranges(numbers: list[int], limit: int = 8) -> str:
    """[1,2,3,7] → '1–3, 7'."""
    out: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}–{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}–{prev}" if prev != start else str(start))
    return ", ".join(out[:limit]) + (" …" if len(out) > limit else "")


async def exchange_book(actor: Actor, holder_user_id: int | None, new_book_id: int | None) -> None:
    """R-SLIP-01/04: swap the holder's used book for a new one — refused while any number is unaccounted
    (still unused, or a void stub not yet handed in).

    Side effects: old book → closed, new book → issued; audit `slip.book_exchanged`.
    """
    _require_finance(actor)
    holder = await _check_holder(holder_user_id)
    if not new_book_id:
        raise DomainError(_("Choose the new book."), errors={"new_book_id": _("Choose the new book.")})
    async with ledger_tx():
        old = await current_book(holder["id"])
        if old is None:
            raise DomainError(_("%(name)s holds no book; issue one instead.", name=holder["display"]),
                              errors={"holder_user_id": _("This repairer holds no book.")})
        missing = await unaccounted(old["id"])
        if missing["unused"]:
            raise DomainError(
                _("Book %(first)s–%(last)s still has unaccounted numbers: %(numbers)s. Record them as used or void, "
                  "or hand them back, before exchanging.", first=old["first_number"], last=old["last_number"],
                  numbers=_ranges(missing["unused"])), errors={"new_book_id": _("The old book is not fully accounted for.")})
        if missing["stubs"]:
            raise DomainError(
                _("The void stubs of numbers %(numbers)s have not been handed in yet.", numbers=_ranges(missing["stubs"])),
                errors={"new_book_id": _("The old book is not fully accounted for.")})
        # raw-sql: closes only while no number is unused (NOT EXISTS), version bumped, one statement
        closed = await fetch(
            "UPDATE slip_book SET status = 'closed', closed_on = {}, version = version + 1, updated_at = {} "  # cas-ok: closes only while no number is unused, one statement
            "WHERE id = {} AND status = 'issued' AND NOT EXISTS "
            "(SELECT 1 FROM slip WHERE slip.book_id = slip_book.id AND slip.state = 'unused') RETURNING id",
            today(), utcnow(), old["id"])
        if not closed:
            raise _stale()
        await _issue_in_tx(actor, int(new_book_id), holder, None, today())
        await record(actor, "slip.book_exchanged", "slip_book", old["id"],
                     after={"holder_user_id": holder["id"], "new_book_id": int(new_book_id)})


async def hand_back(actor: Actor, book_id: int, *, reason: str, handed_on: dt.date | None,
                    version: int | None = None) -> int:
    """R-SLIP-07: a leaving repairer (or a withdrawn book) hands back every unused number.

    Side effects: unused slips → returned, slip_handback row, book → closed; audit `slip.handed_back`.
    Returns the count of numbers handed back.
    """
    _require_finance(actor)
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the numbers are handed back (e.g. the repairer leaves).")
    if handed_on is None:
        errors["handed_on"] = _("Enter the date the slips were handed back.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with ledger_tx():
        book = [await moved("slip_book", book_id, version, BOOK_TRANSITIONS["hand_back"], actor,
                            _("This book is not issued any more (someone changed it meanwhile)."),
                            sets={"closed_on": handed_on}, note=reason, returning="id, holder_user_id")]
        # raw-sql: every unused number of the book at once, versions bumped, RETURNING number
        returned = await fetch(
            "UPDATE slip SET state = 'returned', state_on = {}, version = version + 1, updated_at = {} "  # cas-ok: every unused number of the closed book at once
            "WHERE book_id = {} AND state = 'unused' RETURNING number", handed_on, utcnow(), book_id)
        numbers = sorted(r["number"] for r in returned)
        if numbers:
            await insert(SlipHandback, book_id=book_id, user_id=book[0]["holder_user_id"], from_number=numbers[0],
                         to_number=numbers[-1], count=len(numbers), reason=reason[:300], handed_on=handed_on,
                         recorded_by=actor.user_id, created_at=utcnow())
        await record(actor, "slip.handed_back", "slip_book", book_id,
                     after={"numbers": _ranges(numbers, 50), "count": len(numbers), "reason": reason})
    return len(numbers)


# ---------------------------------------------------------------- use (R-SLIP-02, 03)

JOB_TYPES = ("rma", "ticket", "other")


async def rma_by_number(number: str) -> dict | None:
    """The RMA numbered `number` (id, number), or None."""
    # app.rma.api.rma_by_number exists, but rma imports ledger.api (it posts receivables), so importing rma
    # here would close an import cycle: this stays a read-only lookup on rma's number column.
    rows = await fetch("SELECT id, number FROM rma WHERE number = {}", number)
    return rows[0] if rows else None


async def _check_job(job_type: str, job_id: str, job_note: str, errors: dict[str, str]) -> str:
    """R-SLIP-03 (#12.5): the job a slip names must exist. An RMA by its number (normalised to how it is
    stored); a ticket is named by the tickets domain itself when it records its slip (there is no tickets
    lookup to check a typed number against yet); "other" needs a note saying what the job was."""
    if job_type not in JOB_TYPES:
        errors["job_type"] = _("Choose the kind of job.")
    elif job_type == "other":
        if not job_note:
            errors["job_note"] = _("Say what the job was.")
    elif not job_id:
        errors["job_id"] = _("A slip must name the job it was written for.")
    elif job_type == "rma":
        rma = await rma_by_number(job_id.upper())
        if rma is None:
            errors["job_id"] = _("There is no return repair numbered %(n)s.", n=job_id)
        else:
            return rma["number"]
    return job_id


async def record_slip_use(actor: Actor, holder_user_id: int, number: int, job_type: str, job_id: str | int,
                          amount: Decimal, *, used_at: dt.datetime | None = None, job_note: str = "") -> int:
    """R-SLIP-02/03: the holder's job was written on paper slip `number`.

    The job is a real RMA (by number), a ticket (named by the tickets domain when it records its own slip),
    or "other" with a note (#12.5); an RMA number that does not exist is refused and nothing is written.

    The number must be the holder's next unused number; a later number is refused unless every
    skipped number has been voided first. Joins the caller's write transaction when there is one
    (a ticket saving its slip number), else opens its own. Returns the slip id.
    Side effects: slip → used (job, amount, date); audit `slip.used`.
    """
    errors: dict[str, str] = {}
    job_type, job_id = (job_type or "").strip(), str(job_id or "").strip()
    job_note = (job_note or "").strip()[:200]
    job_id = await _check_job(job_type, job_id, job_note, errors)  # R-SLIP-03
    try:
        fen = to_fen(amount) if amount is not None and amount != "" else None
    except Exception:
        fen = None
    if fen is None or fen < 0:
        errors["amount"] = _("Enter the amount written on the slip (0 when free of charge).")
    try:
        number = int(number)
    except (TypeError, ValueError):
        errors["number"] = _("Enter the slip number.")
    if errors:
        raise DomainError(_("Every field of the slip must be filled."), errors=errors)
    async with ledger_tx(joined=True):
        book = await current_book(holder_user_id)
        if book is None:
            raise DomainError(_("This repairer holds no slip book."), errors={"number": _("This repairer holds no slip book.")})
        if not book["first_number"] <= number <= book["last_number"]:
            raise DomainError(_("Number %(n)s is not in the book %(first)s–%(last)s.", n=number,
                                first=book["first_number"], last=book["last_number"]),
                              errors={"number": _("Not in the holder's book.")})
        nxt = await fetch("SELECT MIN(number) AS n FROM slip WHERE book_id = {} AND state = 'unused'", book["id"])
        expected = nxt[0]["n"]
        if expected is None or number < expected:
            raise DomainError(_("Number %(n)s is already used or void.", n=number), errors={"number": _("Already accounted for.")})
        if number > expected:
            raise DomainError(
                _("Slips are used in number order: the next one is %(e)s. Void %(skipped)s first to use %(n)s.",
                  e=expected, n=number, skipped=_ranges(list(range(expected, number)))),
                errors={"number": _("Expected %(e)s.", e=expected)})
        when = used_at or utcnow()
        # raw-sql: by (book, number), only in number order (NOT EXISTS), version bumped, one statement
        rows = await fetch(
            "UPDATE slip SET state = 'used', job_type = {}, job_id = {}, job_note = {}, amount_fen = {}, used_at = {}, state_on = {}, "
            "holder_user_id = {}, version = version + 1, updated_at = {} "  # cas-ok: by (book, number), only in number order (NOT EXISTS), one statement
            "WHERE book_id = {} AND number = {} AND state = 'unused' AND NOT EXISTS "
            "(SELECT 1 FROM slip lo WHERE lo.book_id = slip.book_id AND lo.number < slip.number "
            "AND lo.state = 'unused') RETURNING id",
            job_type, job_id, job_note, fen, when, as_date(when.astimezone(_tz())), holder_user_id, utcnow(), book["id"], number)
        if not rows:
            raise _stale(_("Number %(n)s was recorded by someone else meanwhile.", n=number))
        await record(actor, "slip.used", "slip", rows[0]["id"],
                     after={"number": number, "job_type": job_type, "job_id": job_id, "job_note": job_note or None,
                            "amount": str(from_fen(fen))})
    return rows[0]["id"]


def _tz():
    from app.core.i18n import tz

    return tz()


async def next_number_for(holder_user_id: int) -> int | None:
    book = await current_book(holder_user_id)
    if not book:
        return None
    rows = await fetch("SELECT MIN(number) AS n FROM slip WHERE book_id = {} AND state = 'unused'", book["id"])
    return rows[0]["n"]


# ---------------------------------------------------------------- void / transfer / delay (R-SLIP-04…06)

async def get_slip(slip_id: int) -> dict | None:
    rows = await fetch(
        "SELECT s.*, b.kind, b.status AS book_status, b.holder_name, b.first_number, b.last_number "
        "FROM slip s JOIN slip_book b ON b.id = s.book_id WHERE s.id = {}", slip_id)
    return rows[0] if rows else None


async def void_slip(actor: Actor, slip_id: int, *, reason: str, handed_in_on: dt.date | None,
                    version: int | None) -> None:
    """R-SLIP-04: mark an unused number void with a reason. Finance records the hand-in date of the
    stub; the holder may void their own number (stub handed in later, at the book exchange).

    Compare-and-set on the slip's version: of two clerks voiding the same number one wins, the other gets 409.
    Side effects: slip → void, slip_void row; audit `slip.voided`.
    """
    slip = await get_slip(slip_id)
    if slip is None:
        raise not_found(_("No such slip."))
    is_holder = actor.user_id is not None and actor.user_id == slip["holder_user_id"]
    if not can(actor, "ledger.slips.manage") and not is_holder:
        raise refused(_("Only finance or the holder of the book may void a slip."))
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Give the reason the slip is void (e.g. mis-written).")
    if can(actor, "ledger.slips.manage") and handed_in_on is None:
        errors["handed_in_on"] = _("Enter the date the void stub was handed in.")
    if handed_in_on and handed_in_on > today():
        errors["handed_in_on"] = _("The hand-in date cannot be in the future.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with ledger_tx():
        await moved("slip", slip_id, version, SLIP_TRANSITIONS["void"], actor,
                    _("Slip %(n)s is no longer unused (someone changed it meanwhile).", n=slip["number"]),
                    column="state", sets={"state_on": handed_in_on or today()}, note=reason, returning="id, number")
        await insert(SlipVoid, slip_id=slip_id, reason=reason[:300], handed_in_on=handed_in_on, recorded_by=actor.user_id,
                     created_at=utcnow())
        await record(actor, "slip.voided", "slip", slip_id,
                     before={"state": "unused"}, after={"number": slip["number"], "reason": reason, "handed_in_on": handed_in_on})


async def receive_void_stubs(actor: Actor, book_id: int, on: dt.date | None = None) -> int:
    """R-SLIP-04: finance receives every outstanding void stub of a book in one click."""
    _require_finance(actor)
    on = on or today()
    async with ledger_tx():
        # raw-sql: the book's stubs through a sub-select on slip, RETURNING slip_id
        rows = await fetch(
            "UPDATE slip_void SET handed_in_on = {} WHERE handed_in_on IS NULL AND slip_id IN "
            "(SELECT id FROM slip WHERE book_id = {}) RETURNING slip_id", on, book_id)
        if rows:
            await record(actor, "slip.stubs_received", "slip_book", book_id, after={"count": len(rows), "on": on})
    return len(rows)


async def transfer_slip(actor: Actor, from_slip_id: int, *, to_number: int | None, signed_by: str,
                        signed_on: dt.date | None, reason: str = "", version: int | None = None) -> int:
    """R-SLIP-05: a repair not finished on time moves to a backup slip — original number, new number,
    who signed. The job and amount move to the backup slip; the original becomes 'transferred'.

    Side effects: two slip updates (compare-and-set), slip_transfer row; audit `slip.transferred`.
    """
    _require_finance(actor)
    src = await get_slip(from_slip_id)
    if src is None:
        raise not_found(_("No such slip."))
    errors: dict[str, str] = {}
    signed_by = (signed_by or "").strip()
    if not to_number:
        errors["to_number"] = _("Enter the backup slip's number.")
    if not signed_by:
        errors["signed_by"] = _("Enter who signed the transfer.")
    if signed_on is None:
        errors["signed_on"] = _("Enter the date of the signature.")
    if src["state"] != "used":
        errors["to_number"] = _("Only a used slip (a job in progress) moves to a backup slip.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with ledger_tx():
        target = await fetch(
            "SELECT s.id, s.state, b.kind FROM slip s JOIN slip_book b ON b.id = s.book_id "
            "WHERE s.series = {} AND s.number = {}", src["series"], int(to_number))
        if not target or target[0]["kind"] != "backup":
            raise DomainError(_("Number %(n)s is not in a backup book.", n=to_number),
                              errors={"to_number": _("Not a backup slip.")})
        if target[0]["state"] != "unused":
            raise DomainError(_("Backup slip %(n)s is already used.", n=to_number), errors={"to_number": _("Already used.")})
        await moved("slip", from_slip_id, version, SLIP_TRANSITIONS["transfer"], actor, column="state", returning="id")
        now = utcnow()
        await moved("slip", target[0]["id"], None, SLIP_TRANSITIONS["use_backup"], actor,
                    _("Backup slip %(n)s was used by someone else meanwhile.", n=to_number), column="state", now=now,
                    sets={"job_type": src["job_type"], "job_id": src["job_id"], "job_note": src["job_note"],
                          "amount_fen": src["amount_fen"],
                          "used_at": now, "state_on": signed_on, "holder_user_id": src["holder_user_id"]},
                    returning="id")
        await insert(SlipTransfer, from_slip_id=from_slip_id, to_slip_id=target[0]["id"], reason=reason.strip()[:300],
                     signed_by=signed_by[:100], signed_on=signed_on, recorded_by=actor.user_id, created_at=now)
        await record(actor, "slip.transferred", "slip", from_slip_id,
                     after={"from": src["number"], "to": int(to_number), "signed_by": signed_by, "signed_on": signed_on})
    return target[0]["id"]


async def add_delay(actor: Actor, slip_id: int, *, reason: str, delay_ref: str = "",
                    new_due_on: dt.date | None = None) -> None:
    """R-SLIP-06: attach a delay slip (reason, its reference, the new date) to a used slip."""
    slip = await get_slip(slip_id)
    if slip is None:
        raise not_found(_("No such slip."))
    if not can(actor, "ledger.slips.manage") and actor.user_id != slip["holder_user_id"]:
        raise refused(_("Only finance or the holder of the book may attach a delay slip."))
    errors: dict[str, str] = {}
    if not (reason or "").strip():
        errors["reason"] = _("Give the reason for the delay.")
    if slip["state"] != "used":
        errors["reason"] = _("A delay slip attaches to a used slip.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with ledger_tx():
        await insert(SlipDelay, slip_id=slip_id, reason=reason.strip()[:300], delay_ref=(delay_ref or "").strip()[:40],
                     new_due_on=new_due_on, recorded_by=actor.user_id, created_at=utcnow())
        await update_versioned("slip", slip_id, None, {"has_delay": True}, returning="id")
        await record(actor, "slip.delayed", "slip", slip_id,
                     after={"number": slip["number"], "reason": reason, "delay_ref": delay_ref, "new_due_on": new_due_on})


# Re-exported so other domains call one module: `from app.ledger.services import post_receivable`.
from app.ledger.receivables import post_receivable  # noqa: E402,F401
