"""Slip ledger (/slips) and receivables (/receivables): thin handlers → one service call → render/redirect."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery

from app.core.permissions import roles
from app.core.i18n import _
from app.core.i18n import lazy_gettext as _l
from app.ledger import labels
from app.ledger import receivables as ar
from app.ledger import services as slips
from app.ledger.common import LedgerError, month_bounds, parse_amount, parse_date, repairers, today, week_start
from app.core.xlsx import workbook, xlsx_response
from app.core.money import from_fen
from app.core.nav import HomePanel, NavEntry, register_nav, register_panel
from app.core.web import actor, form_data, redirect, render

OFFICE = ("finance", "manager", "gm")
AR_VIEW = ("finance", "desk", "manager", "gm")


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _month(value: str) -> str:
    try:
        month_bounds(value)
        return value[:7]
    except (ValueError, TypeError, IndexError):
        return today().strftime("%Y-%m")


def _raise_plain(exc: LedgerError) -> None:
    """Errors without a form to show them on: 403 / 404 / 409 pages."""
    if exc.status == 403:
        raise PermissionDeniedException(exc.message)
    if exc.status == 404:
        raise NotFoundException(exc.message)
    raise HTTPException(status_code=exc.status, detail=exc.message)


def _ctx(**extra: Any) -> dict:
    ctx = labels.context()
    ctx.update(extra)
    return ctx


def _is_office(request: Request) -> bool:
    return request.scope["user"].has(*OFFICE)


# ======================================================================= slips

class SlipController(Controller):
    path = "/slips"
    opt = roles("finance", "manager", "gm")

    async def _books_page(self, request: Request, *, status_code: int = 200, errors: dict | None = None,
                          message: str = "", form: dict | None = None, status: str = "issued", holder: str = "",
                          number: str = "", after: int | None = None) -> Response:
        rows, cursor = await slips.list_books(status=status, holder_user_id=_int(holder), number=_int(number), after=after)
        return render(request, "ledger/books.html", partial="ledger/_books.html", status_code=status_code,
                      **_ctx(rows=rows, cursor=cursor, errors=errors or {}, message=message, form=form or {},
                             status=status, holder=holder, number=number, first_page=after is None,
                             repairers=await repairers(), stock=await slips.stock_books(60),
                             to_exchange=await slips.books_to_exchange(8)))

    @get("/", name="slips.books")
    async def books(self, request: Request, status: FromQuery[str] = "issued", holder: FromQuery[str] = "",
                    number: FromQuery[str] = "", after: FromQuery[int | None] = None) -> Response:
        return await self._books_page(request, status=status, holder=holder, number=number, after=after)

    @post("/books", opt=roles("finance"))
    async def create_books(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            ids = await slips.create_books(actor(request), series=str(data.get("series", "")),
                                           first_number=_int(data.get("first_number")), per_book=_int(data.get("per_book")),
                                           count=_int(data.get("count")) or 1, kind=str(data.get("kind", "regular")),
                                           note=str(data.get("note", "")))
        except LedgerError as exc:
            if exc.status != 400:
                _raise_plain(exc)
            return await self._books_page(request, status_code=400, errors=exc.errors, message=exc.message, form=data)
        return redirect(request, "/slips?status=" + ("backup" if data.get("kind") == "backup" else "stock"),
                        flash=_("%(n)s book(s) created.", n=len(ids)))

    @post("/books/{book_id:int}/issue", opt=roles("finance"))
    async def issue(self, request: Request, book_id: FromPath[int]) -> Response:
        data = await form_data(request)
        try:
            await slips.issue_book(actor(request), book_id, _int(data.get("holder_user_id")), version=_int(data.get("version")))
        except LedgerError as exc:
            if exc.status not in (400, 409):
                _raise_plain(exc)
            return await self._books_page(request, status_code=exc.status, errors=exc.errors, message=exc.message,
                                          form={**data, "issue_book_id": book_id})
        return redirect(request, f"/slips/books/{book_id}", flash=_("Book issued."))

    @post("/exchange", opt=roles("finance"))
    async def exchange(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            await slips.exchange_book(actor(request), _int(data.get("holder_user_id")), _int(data.get("new_book_id")))
        except LedgerError as exc:
            if exc.status not in (400, 409):
                _raise_plain(exc)
            return await self._books_page(request, status_code=exc.status, errors=exc.errors,
                                          message=exc.message, form={**data, "exchange": True})
        return redirect(request, "/slips?status=issued", flash=_("Book exchanged; the old book is closed."))

    @get("/books/{book_id:int}", opt=roles("finance", "manager", "gm", "field", "bench"), name="slips.book")
    async def book(self, request: Request, book_id: FromPath[int]) -> Response:
        return await self._book_page(request, book_id)

    async def _book_page(self, request: Request, book_id: int, *, status_code: int = 200, errors: dict | None = None,
                         message: str = "", form: dict | None = None, slip_id: int | None = None, action: str = "") -> Response:
        book = await slips.get_book(book_id)
        if book is None:
            raise NotFoundException()
        user = request.scope["user"]
        if not user.has(*OFFICE) and book["holder_user_id"] != user.id:
            raise PermissionDeniedException(_("You may only see your own book."))
        rows = await slips.book_slips([book_id])
        missing = await slips.unaccounted(book_id)
        return render(request, "ledger/book.html", status_code=status_code,
                      **_ctx(book=book, rows=rows, summary=slips.summarize(rows), missing=missing, errors=errors or {},
                             message=message, form=form or {}, slip_id=slip_id, action=action, today=today(),
                             can_edit=user.has("finance"), is_holder=book["holder_user_id"] == user.id))

    async def _slip_action(self, request: Request, slip_id: int, action: str, call) -> Response:
        slip = await slips.get_slip(slip_id)
        if slip is None:
            raise NotFoundException()
        data = await form_data(request)
        try:
            await call(slip, data)
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._book_page(request, slip["book_id"], status_code=exc.status, errors=exc.errors,
                                         message=exc.message, form=data, slip_id=slip_id, action=action)
        back = "/slips/mine" if not _is_office(request) else f"/slips/books/{slip['book_id']}"
        return redirect(request, f"{back}#n{slip['number']}", flash=_("Slip %(n)s saved.", n=slip["number"]))

    @post("/{slip_id:int}/void", opt=roles("finance", "field", "bench"))
    async def void(self, request: Request, slip_id: FromPath[int]) -> Response:
        async def call(slip, data):
            errors: dict[str, str] = {}
            on = parse_date(data.get("handed_in_on"), "handed_in_on", errors, required=False)
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            await slips.void_slip(actor(request), slip_id, reason=str(data.get("reason", "")), handed_in_on=on,
                                  version=_int(data.get("version")))
        return await self._slip_action(request, slip_id, "void", call)

    @post("/{slip_id:int}/transfer", opt=roles("finance"))
    async def transfer(self, request: Request, slip_id: FromPath[int]) -> Response:
        async def call(slip, data):
            errors: dict[str, str] = {}
            on = parse_date(data.get("signed_on"), "signed_on", errors)
            to = _int(data.get("to_number"))
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            await slips.transfer_slip(actor(request), slip_id, to_number=to, signed_by=str(data.get("signed_by", "")),
                                      signed_on=on, reason=str(data.get("reason", "")), version=_int(data.get("version")))
        return await self._slip_action(request, slip_id, "transfer", call)

    @post("/{slip_id:int}/delay", opt=roles("finance", "field", "bench"))
    async def delay(self, request: Request, slip_id: FromPath[int]) -> Response:
        async def call(slip, data):
            errors: dict[str, str] = {}
            on = parse_date(data.get("new_due_on"), "new_due_on", errors, required=False)
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            await slips.add_delay(actor(request), slip_id, reason=str(data.get("reason", "")),
                                  delay_ref=str(data.get("delay_ref", "")), new_due_on=on)
        return await self._slip_action(request, slip_id, "delay", call)

    @post("/books/{book_id:int}/use", opt=roles("finance", "field", "bench"))
    async def use(self, request: Request, book_id: FromPath[int]) -> Response:
        """Record the next slip from paper (finance) or by the holder — the same call tickets/bench make."""
        book = await slips.get_book(book_id)
        if book is None:
            raise NotFoundException()
        user = request.scope["user"]
        if not user.has("finance") and book["holder_user_id"] != user.id:
            raise PermissionDeniedException(_("You may only record slips of your own book."))
        data = await form_data(request)
        errors: dict[str, str] = {}
        amount = parse_amount(data.get("amount"), "amount", errors, allow_zero=True)
        try:
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            await slips.record_slip_use(actor(request), book["holder_user_id"], _int(data.get("number")),
                                        str(data.get("job_type", "")), str(data.get("job_id", "")), amount)
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._book_page(request, book_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                         form=data, action="use")
        back = "/slips/mine" if not _is_office(request) else f"/slips/books/{book_id}"
        return redirect(request, back, flash=_("Slip %(n)s recorded.", n=data.get("number")))

    @post("/books/{book_id:int}/stubs", opt=roles("finance"))
    async def stubs(self, request: Request, book_id: FromPath[int]) -> Response:
        try:
            n = await slips.receive_void_stubs(actor(request), book_id)
        except LedgerError as exc:
            _raise_plain(exc)
        return redirect(request, f"/slips/books/{book_id}", flash=_("%(n)s void stub(s) received.", n=n))

    @post("/books/{book_id:int}/handback", opt=roles("finance"))
    async def handback(self, request: Request, book_id: FromPath[int]) -> Response:
        data = await form_data(request)
        errors: dict[str, str] = {}
        on = parse_date(data.get("handed_on"), "handed_on", errors)
        try:
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            n = await slips.hand_back(actor(request), book_id, reason=str(data.get("reason", "")), handed_on=on,
                                      version=_int(data.get("version")))
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._book_page(request, book_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                         form=data, action="handback")
        return redirect(request, f"/slips/books/{book_id}", flash=_("%(n)s unused number(s) handed back; the book is closed.", n=n))

    @get("/mine", opt=roles("field", "bench", "finance"), name="slips.mine")
    async def mine(self, request: Request) -> Response:
        """A repairer's own book: next number, every number's state, and the slip-use form."""
        user = request.scope["user"]
        book = await slips.current_book(user.id)
        rows = await slips.book_slips([book["id"]]) if book else []
        history, _cursor = await slips.list_books(holder_user_id=user.id, limit=20)
        nxt = await slips.next_number_for(user.id)
        return render(request, "ledger/mine.html",
                      **_ctx(book=book, rows=rows, summary=slips.summarize(rows), history=history, next_number=nxt,
                             errors={}, form={}, today=today()))

    # ------------------------------------------------------------ reconciliation (R-SLIP-08)

    async def _reconcile_data(self, month: str, holder: int | None, book: int | None, only: str = "") -> dict:
        month = _month(month)
        data: dict[str, Any] = {"month": month, "holder": holder, "book_id": book, "only": only}
        if book:
            b = await slips.get_book(book)
            if b is None:
                raise NotFoundException()
            data["books"] = [b]
        elif holder:
            data["books"] = await slips.holder_books_in_month(holder, month)
        if "books" in data:
            rows = await slips.book_slips([b["id"] for b in data["books"]])
            data["detail_summary"] = slips.summarize(rows)
            if only == "problems":  # gaps, out-of-order use, amounts that do not tie, stubs not handed in
                rows = [s for s in rows if s["missing"] or s["out_of_order"] or s["mismatch"]
                        or (s["state"] == "void" and not s["handed_in_on"])]
            data["detail"] = rows
            data["holder_name"] = next((b["holder_name"] for b in data["books"] if b["holder_name"]), "")
        else:
            data["rec"] = await slips.reconcile_month(month)
        return data

    @get("/reconcile", name="slips.reconcile")
    async def reconcile(self, request: Request, month: FromQuery[str] = "", holder: FromQuery[str] = "",
                        book: FromQuery[str] = "", only: FromQuery[str] = "") -> Response:
        data = await self._reconcile_data(month, _int(holder), _int(book), only)
        return render(request, "ledger/reconcile.html", **_ctx(**data))

    @get("/reconcile/print", name="slips.reconcile_print")
    async def reconcile_print(self, request: Request, month: FromQuery[str] = "", holder: FromQuery[str] = "",
                              book: FromQuery[str] = "") -> Response:
        data = await self._reconcile_data(month, _int(holder), _int(book))
        return render(request, "print/ledger/reconcile.html", **_ctx(**data, printed_on=today()))

    @get("/reconcile.xlsx", name="slips.reconcile_xlsx")
    async def reconcile_xlsx(self, request: Request, month: FromQuery[str] = "", holder: FromQuery[str] = "",
                             book: FromQuery[str] = "") -> Response:
        data = await self._reconcile_data(month, _int(holder), _int(book))
        states = labels.SLIP_STATES
        if "rec" in data:
            rec = data["rec"]
            head = [_("Repairer"), _("Books"), _("Used"), _("Void"), _("Transferred"), _("Returned unused"), _("Missing"),
                    _("Out of order"), _("Delay slips"), _("Slip total"), _("Receivables"), _("Difference")]
            rows = [[r["name"], r["books"], r["used"], r["void"], r["transferred"], r["returned"], r["gaps"], r["out_of_order"],
                     r["delayed"], from_fen(r["amount_fen"]), from_fen(r["receivable_fen"]), from_fen(r["difference_fen"])]
                    for r in rec["rows"]]
            t = rec["totals"]
            rows.append([_("Total"), t["books"], t["used"], t["void"], t["transferred"], t["returned"], t["gaps"],
                         t["out_of_order"], t["delayed"], from_fen(t["amount_fen"]), from_fen(t["receivable_fen"]),
                         from_fen(t["difference_fen"])])
            sheets = [(_("Summary") + " " + data["month"], head, rows)]
        else:
            head = [_("Series"), _("Number"), _("State"), _("Date"), _("Job"), _("Slip amount"), _("Receivables"),
                    _("Void reason"), _("Transfer"), _("Delay slip"), _("Flags")]
            rows = []
            for s in data["detail"]:
                state = "missing" if s["missing"] else s["state"]
                flags = []
                if s["out_of_order"]:
                    flags.append(_("Out of order"))
                if s["mismatch"]:
                    flags.append(_("Does not tie"))
                transfer = (f"→ {s['to_number']}" if s["to_number"] else "") + (f"← {s['from_number']}" if s["from_number"] else "")
                rows.append([s["series"], s["number"], str(states[state]), s["state_on"],
                             f"{s['job_type']} {s['job_id']}".strip(), from_fen(s["amount_fen"]) if s["state"] in ("used", "transferred") else None,
                             from_fen(s["receivable_fen"]) if s["receivable_fen"] is not None else None,
                             s["void_reason"] or "", transfer, s["delay_reason"] or "", ", ".join(flags)])
            sheets = [(_("Slips") + " " + data["month"], head, rows)]
        return xlsx_response(f"reconcile-{data['month']}.xlsx", workbook(sheets))


# ======================================================================= receivables

def _pay_form() -> dict:
    return {"token": ar.new_token(), "received_on": today().isoformat(), "method": "transfer", "amount": ""}


class ReceivableController(Controller):
    path = "/receivables"
    opt = roles(*AR_VIEW)

    @get("/", name="receivables.list")
    async def lines(self, request: Request, q: FromQuery[str] = "", cls: FromQuery[str] = "", status: FromQuery[str] = "open",
                    tech: FromQuery[str] = "", after: FromQuery[int | None] = None) -> Response:
        rows, cursor = await ar.list_receivables(q=q.strip(), account_class=cls, status=status, technician_user_id=_int(tech),
                                                 after=after)
        return render(request, "ledger/receivables.html", partial="ledger/_receivable_rows.html",
                      **_ctx(rows=rows, cursor=cursor, q=q, cls=cls, status=status, tech=tech, first_page=after is None,
                             technicians=await ar.technicians(), counts=await ar.panel_counts()))

    @get("/export.xlsx", name="receivables.export")
    async def export(self, request: Request, q: FromQuery[str] = "", cls: FromQuery[str] = "", status: FromQuery[str] = "open",
                     tech: FromQuery[str] = "") -> Response:
        rows, _c = await ar.list_receivables(q=q.strip(), account_class=cls, status=status, technician_user_id=_int(tech),
                                             limit=50000)
        head = [_("ID"), _("Posted"), _("Customer"), _("Class"), _("Source"), _("Description"), _("Technician"), _("Amount"),
                _("Paid"), _("Open"), _("Due"), _("Statement")]
        data = [[r["id"], r["posted_on"], r["customer_name"], str(labels.CLASSES.get(r["account_class"], "")),
                 f"{r['source_type']} {r['source_id']}", r["description"], r["tech_name"] or r["tech_username"] or "",
                 from_fen(r["amount_fen"]), from_fen(r["paid_fen"]), from_fen(r["open_fen"]), r["due_date"],
                 r["statement_number"] or ""] for r in rows]
        return xlsx_response(f"receivables-{today().isoformat()}.xlsx", workbook([(_("Receivables"), head, data)]))

    # ------------------------------------------------------------ one line

    async def _line_page(self, request: Request, rid: int, *, status_code: int = 200, errors: dict | None = None,
                         message: str = "", form: dict | None = None, action: str = "") -> Response:
        line = await ar.get_receivable(rid)
        if line is None:
            raise NotFoundException()
        if form is None:
            form = {**_pay_form(), "amount": str(from_fen(line["open_fen"])) if line["open_fen"] else ""}
        return render(request, "ledger/receivable.html", status_code=status_code,
                      **_ctx(line=line, errors=errors or {}, message=message, action=action, form=form, today=today()))

    @get("/{rid:int}", name="receivables.detail")
    async def line(self, request: Request, rid: FromPath[int]) -> Response:
        return await self._line_page(request, rid)

    @post("/{rid:int}/pay", opt=roles("finance"))
    async def pay_line(self, request: Request, rid: FromPath[int]) -> Response:
        data = await form_data(request)
        errors: dict[str, str] = {}
        on = parse_date(data.get("received_on"), "received_on", errors)
        try:
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            _pid, created = await ar.record_payment(actor(request), str(data.get("token", "")), amount=data.get("amount"),
                                                    received_on=on, method=str(data.get("method", "")),
                                                    reference=str(data.get("reference", "")), receivable_id=rid)
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._line_page(request, rid, status_code=exc.status, errors=exc.errors, message=exc.message,
                                         form=data, action="pay")
        return redirect(request, f"/receivables/{rid}",
                        flash=_("Payment recorded.") if created else _("This payment was already recorded."))

    @post("/{rid:int}/extension", opt=roles("finance", "desk"))
    async def extension(self, request: Request, rid: FromPath[int]) -> Response:
        data = await form_data(request)
        errors: dict[str, str] = {}
        on = parse_date(data.get("requested_due_date"), "requested_due_date", errors)  # None when bad: refused below too
        try:
            await ar.request_extension(actor(request), rid, reason=str(data.get("reason", "")), requested_due_date=on)
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._line_page(request, rid, status_code=exc.status, errors={**exc.errors, **errors},
                                         message=exc.message, form={**_pay_form(), **data}, action="extension")
        return redirect(request, f"/receivables/{rid}", flash=_("Extension requested; the manager decides."))

    @post("/{rid:int}/followup", opt=roles("manager"))
    async def followup(self, request: Request, rid: FromPath[int]) -> Response:
        data = await form_data(request)
        try:
            await ar.save_followup(actor(request), rid, str(data.get("note", "")))
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._line_page(request, rid, status_code=exc.status, errors=exc.errors, message=exc.message,
                                         form={**_pay_form(), **data}, action="followup")
        back = str(data.get("back", "")) or f"/receivables/{rid}"
        if not back.startswith("/receivables"):
            back = f"/receivables/{rid}"
        return redirect(request, back, flash=_("Follow-up saved."))

    @get("/new", opt=roles("finance"))
    async def new_line(self, request: Request) -> Response:
        return render(request, "ledger/receivable_form.html",
                      **_ctx(form={"account_class": "retail", "posted_on": today().isoformat()}, errors={}, message="",
                             technicians=await ar.technicians()))

    @post("/new", opt=roles("finance"))
    async def create_line(self, request: Request) -> Response:
        data = await form_data(request)
        errors: dict[str, str] = {}
        amount = parse_amount(data.get("amount"), "amount", errors)
        posted = parse_date(data.get("posted_on"), "posted_on", errors)
        due = parse_date(data.get("due_date"), "due_date", errors, required=False)
        try:
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            rid = await ar.post_manual(actor(request), source_id=str(data.get("source_id", "")),
                                       customer_id=None, customer_name=str(data.get("customer_name", "")),
                                       account_class=str(data.get("account_class", "")), amount=amount,
                                       description=str(data.get("description", "")),
                                       technician_user_id=_int(data.get("technician_user_id")), due_date=due, posted_on=posted)
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return render(request, "ledger/receivable_form.html", status_code=400,
                          **_ctx(form=data, errors=exc.errors, message=exc.message, technicians=await ar.technicians()))
        return redirect(request, f"/receivables/{rid}", flash=_("Receivable posted."))

    # ------------------------------------------------------------ sales confirmations (R-AR-01)

    async def _sales_page(self, request: Request, *, status_code: int = 200, errors: dict | None = None, message: str = "",
                          form: dict | None = None) -> Response:
        from app.core.db import fetch

        recent = await fetch("SELECT s.*, u.full_name AS tech_name, u.username AS tech_username FROM sales_confirmation s "
                             "LEFT JOIN app_user u ON u.id = s.technician_user_id ORDER BY s.id DESC LIMIT 30")
        return render(request, "ledger/sales.html", status_code=status_code,
                      **_ctx(recent=recent, errors=errors or {}, message=message,
                             form=form or {"account_class": "monthly", "sold_on": today().isoformat()},
                             technicians=await ar.technicians()))

    @get("/sales", name="receivables.sales")
    async def sales(self, request: Request) -> Response:
        return await self._sales_page(request)

    @post("/sales", opt=roles("desk"))
    async def register_sale(self, request: Request) -> Response:
        data = await form_data(request)
        errors: dict[str, str] = {}
        sold = parse_date(data.get("sold_on"), "sold_on", errors)  # None when bad: the service then refuses too
        try:
            _sid, number = await ar.register_sales_confirmation(
                actor(request), customer_name=str(data.get("customer_name", "")), customer_id=None,
                account_class=str(data.get("account_class", "")), technician_user_id=_int(data.get("technician_user_id")),
                amount=str(data.get("amount", "")), description=str(data.get("description", "")), sold_on=sold)
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._sales_page(request, status_code=400, errors={**exc.errors, **errors}, message=exc.message, form=data)
        return redirect(request, "/receivables/sales", flash=_("Sales confirmation %(n)s registered.", n=number))

    # ------------------------------------------------------------ statements (R-AR-02)

    @get("/statements", name="receivables.statements")
    async def statements(self, request: Request, status: FromQuery[str] = "", q: FromQuery[str] = "",
                         month: FromQuery[str] = "", after: FromQuery[int | None] = None) -> Response:
        month = _month(month) if month else (today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        rows, cursor = await ar.list_statements(status=status if status in labels.STATEMENT_STATUS else "", q=q.strip(), after=after)
        user = request.scope["user"]
        candidates = await ar.statement_candidates(month) if user.has("desk") else []
        return render(request, "ledger/statements.html", partial="ledger/_statement_rows.html",
                      **_ctx(rows=rows, cursor=cursor, status=status, q=q, month=month, candidates=candidates,
                             first_page=after is None, counts=await ar.panel_counts(), errors={}, message=""))

    @post("/statements/draft", opt=roles("desk"))
    async def draft(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            sid = await ar.draft_statement(actor(request), str(data.get("customer_name", "")), str(data.get("month", "")))
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return redirect(request, f"/receivables/statements?month={data.get('month', '')}", flash=exc.message, level="danger")
        return redirect(request, f"/receivables/statements/{sid}", flash=_("Statement drafted; it waits for the manager's review."))

    async def _statement_page(self, request: Request, sid: int, *, status_code: int = 200, errors: dict | None = None,
                              message: str = "", form: dict | None = None) -> Response:
        st = await ar.get_statement(sid)
        if st is None:
            raise NotFoundException()
        if form is None:  # prefill the open amount: the usual case is a payment in full
            form = {**_pay_form(), "amount": str(from_fen(st["open_fen"])) if st["open_fen"] else ""}
        return render(request, "ledger/statement.html", status_code=status_code,
                      **_ctx(st=st, errors=errors or {}, message=message, form=form))

    @get("/statements/{sid:int}", name="receivables.statement")
    async def statement(self, request: Request, sid: FromPath[int]) -> Response:
        return await self._statement_page(request, sid)

    @get("/statements/{sid:int}/print", name="receivables.statement_print")
    async def statement_print(self, request: Request, sid: FromPath[int]) -> Response:
        st = await ar.get_statement(sid)
        if st is None:
            raise NotFoundException()
        return render(request, "print/ledger/statement.html", **_ctx(st=st, printed_on=today()))

    @post("/statements/{sid:int}/move", opt=roles("desk", "manager", "finance"))
    async def move(self, request: Request, sid: FromPath[int]) -> Response:
        data = await form_data(request)
        verb = str(data.get("verb", ""))
        try:
            status = await ar.move_statement(actor(request), sid, verb, _int(data.get("version")), str(data.get("note", "")))
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._statement_page(request, sid, status_code=exc.status, errors=exc.errors, message=exc.message,
                                              form={**_pay_form(), "note": data.get("note", "")})
        return redirect(request, f"/receivables/statements/{sid}",
                        flash=_("Statement: %(s)s.", s=labels.STATEMENT_STATUS.get(status, status)))

    @post("/statements/{sid:int}/pay", opt=roles("finance"))
    async def pay_statement(self, request: Request, sid: FromPath[int]) -> Response:
        data = await form_data(request)
        errors: dict[str, str] = {}
        on = parse_date(data.get("received_on"), "received_on", errors)
        try:
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            _pid, created = await ar.record_payment(actor(request), str(data.get("token", "")), amount=data.get("amount"),
                                                    received_on=on, method=str(data.get("method", "")),
                                                    reference=str(data.get("reference", "")), statement_id=sid)
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            return await self._statement_page(request, sid, status_code=exc.status, errors=exc.errors, message=exc.message,
                                              form=data)
        return redirect(request, f"/receivables/statements/{sid}",
                        flash=_("Payment recorded.") if created else _("This payment was already recorded."))

    # ------------------------------------------------------------ extensions (R-AR-03)

    @get("/extensions", name="receivables.extensions")
    async def extensions(self, request: Request, status: FromQuery[str] = "pending") -> Response:
        status = status if status in labels.EXT_STATUS else "pending"
        return render(request, "ledger/extensions.html", **_ctx(rows=await ar.list_extensions(status), status=status))

    @post("/extensions/{eid:int}/decide", opt=roles("manager", "gm"))
    async def decide(self, request: Request, eid: FromPath[int]) -> Response:
        data = await form_data(request)
        approve = data.get("decision") == "approve"
        try:
            await ar.decide_extension(actor(request), eid, approve, note=str(data.get("note", "")), version=_int(data.get("version")))
        except LedgerError as exc:
            _raise_plain(exc)
        return redirect(request, "/receivables/extensions", flash=_("Request approved.") if approve else _("Request rejected."))

    # ------------------------------------------------------------ reports (R-AR-04)

    @get("/overdue", name="receivables.overdue")
    async def overdue(self, request: Request, tech: FromQuery[str] = "") -> Response:
        review = await ar.overdue_review(technician_user_id=_int(tech))
        groups: dict[Any, dict] = {}
        for r in review["rows"]:
            key = r["technician_user_id"]
            g = groups.setdefault(key, {"name": r["tech_name"] or r["tech_username"] or _("No technician"), "rows": [], "open_fen": 0})
            g["rows"].append(r)
            g["open_fen"] += r["open_fen"]
        return render(request, "ledger/overdue.html",
                      **_ctx(review=review, groups=list(groups.values()), tech=tech, as_of=today(), monday=week_start(today())))

    @get("/ageing", name="receivables.ageing")
    async def ageing(self, request: Request, cls: FromQuery[str] = "") -> Response:
        report = await ar.ageing(account_class=cls)
        t = report["totals"]
        peak = max(t["b0"], t["b1"], t["b2"], t["b3"], 1)
        bars = [{"key": k, "label": labels.BUCKETS[k], "fen": t[k], "height": round(160 * t[k] / peak)} for k in ("b0", "b1", "b2", "b3")]
        return render(request, "ledger/ageing.html", **_ctx(report=report, bars=bars, cls=cls))

    @get("/ageing.xlsx", name="receivables.ageing_xlsx")
    async def ageing_xlsx(self, request: Request, cls: FromQuery[str] = "") -> Response:
        report = await ar.ageing(account_class=cls, limit=100000)
        head = [_("Customer"), _("Open lines"), str(labels.BUCKETS["b0"]), str(labels.BUCKETS["b1"]), str(labels.BUCKETS["b2"]),
                str(labels.BUCKETS["b3"]), _("Total")]
        rows = [[c["customer_name"], c["lines"], from_fen(c["b0"]), from_fen(c["b1"]), from_fen(c["b2"]), from_fen(c["b3"]),
                 from_fen(c["total"])] for c in report["customers"]]
        t = report["totals"]
        rows.append([_("Total"), t["lines"], from_fen(t["b0"]), from_fen(t["b1"]), from_fen(t["b2"]), from_fen(t["b3"]),
                     from_fen(t["total"])])
        return xlsx_response(f"ageing-{report['as_of'].isoformat()}.xlsx", workbook([(_("Ageing"), head, rows)]))

    @get("/calendar", name="receivables.calendar")
    async def calendar(self, request: Request, year: FromQuery[int | None] = None) -> Response:
        year = year or today().year
        return render(request, "ledger/calendar.html",
                      **_ctx(days=await ar.calendar_days(year), year=year, errors={}, message="", form={},
                             can_edit=request.scope["user"].has("finance", "admin")))

    @post("/calendar", opt=roles("finance", "admin"))
    async def calendar_set(self, request: Request) -> Response:
        data = await form_data(request)
        errors: dict[str, str] = {}
        day = parse_date(data.get("day"), "day", errors)
        try:
            if errors:
                raise LedgerError(_("Check the highlighted fields."), errors)
            if data.get("remove"):
                await ar.delete_calendar_day(actor(request), day)
            else:
                await ar.set_calendar_day(actor(request), day, data.get("is_working") == "1", str(data.get("name", "")))
        except LedgerError as exc:
            if exc.status in (403, 404):
                _raise_plain(exc)
            year = (day or today()).year
            return render(request, "ledger/calendar.html", status_code=400,
                          **_ctx(days=await ar.calendar_days(year), year=year, errors=exc.errors, message=exc.message,
                                 form=data, can_edit=True))
        return redirect(request, f"/receivables/calendar?year={day.year}", flash=_("Calendar saved."))


class SalesLedgerController(Controller):
    """R-AR-04: the per-technician sales ledger (技术员销售台帐); technicians see their own."""

    path = "/receivables/ledger"
    opt = roles("finance", "desk", "manager", "gm", "field", "bench")

    @get("/", name="receivables.ledger")
    async def ledger(self, request: Request, tech: FromQuery[str] = "", week: FromQuery[str] = "") -> Response:
        user = request.scope["user"]
        office = user.has("finance", "desk", "manager", "gm")
        tech_id = _int(tech) if office else user.id
        if not office and tech and _int(tech) != user.id:
            raise PermissionDeniedException(_("You may only see your own sales ledger."))
        try:
            day = dt.date.fromisoformat(week) if week else today()
        except ValueError:
            day = today()
        data = await ar.technician_ledger(tech_id, day) if tech_id else None
        return render(request, "ledger/sales_ledger.html",
                      **_ctx(data=data, tech_id=tech_id, technicians=await ar.technicians() if office else [],
                             office=office, prev_week=(week_start(day) - dt.timedelta(days=7)).isoformat(),
                             next_week=(week_start(day) + dt.timedelta(days=7)).isoformat(), today=today()))

    @post("/check", opt=roles("desk"))
    async def check(self, request: Request) -> Response:
        data = await form_data(request)
        tech_id = _int(data.get("tech"))
        try:
            day = dt.date.fromisoformat(str(data.get("week", "")))
        except ValueError:
            raise HTTPException(status_code=400, detail="week") from None
        try:
            await ar.check_week(actor(request), tech_id, day, str(data.get("note", "")))
        except LedgerError as exc:
            if exc.status == 409:
                return redirect(request, f"/receivables/ledger?tech={tech_id}&week={day}", flash=exc.message, level="warning")
            _raise_plain(exc)
        return redirect(request, f"/receivables/ledger?tech={tech_id}&week={day}", flash=_("Week reconciled."))


# ======================================================================= nav and home panels

register_nav(NavEntry("slips", _l("Slip books"), "/slips", frozenset(OFFICE), order=60))
register_nav(NavEntry("my_slips", _l("My slip book"), "/slips/mine", frozenset({"field", "bench"}), order=61))
register_nav(NavEntry("receivables", _l("Receivables"), "/receivables", frozenset(AR_VIEW), order=62))
register_nav(NavEntry("sales_ledger", _l("My sales ledger"), "/receivables/ledger", frozenset({"field", "bench"}), order=63))


async def _finance_panel(user) -> dict | None:
    counts = await ar.panel_counts()
    return {"exchange": await slips.books_to_exchange(5), "counts": counts, "fen": labels.fen}


async def _manager_panel(user) -> dict | None:
    counts = await ar.panel_counts()
    return {"counts": counts, "extensions": await ar.list_extensions("pending", 5), "fen": labels.fen}


register_panel(HomePanel("ledger_finance", _l("Slips and receivables"), "ledger/_home_finance.html",
                         frozenset({"finance"}), _finance_panel, order=40))
register_panel(HomePanel("ledger_manager", _l("Statements and extensions"), "ledger/_home_manager.html",
                         frozenset({"manager"}), _manager_panel, order=41))


CONTROLLERS = [SlipController, ReceivableController, SalesLedgerController]
