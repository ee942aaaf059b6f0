"""Slip ledger pages (/slips): thin handlers → one service call → render/redirect."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core.dates import today
from app.core.errors import DomainError, not_found, refused
from app.core.forms import parse_or_raise
from app.core.i18n import _
from app.core.money import from_fen
from app.core.permissions import can, perm
from app.core.web import actor, form_data, redirect, render
from app.core.xlsx import workbook, xlsx_response
from app.core.printing import paper
from app.ledger import labels
from app.ledger import schemas
from app.ledger import services as slips
from app.ledger.common import ledger_setting, repairers
from app.ledger.controllers._common import ctx as _ctx
from app.ledger.controllers._common import int_or_none as _int
from app.ledger.controllers._common import month_or_current as _month
from app.ledger.controllers._common import rerender


def _is_office(request: Request) -> bool:
    return can(request.scope["user"], "ledger.slips.view")


class SlipController(Controller):
    path = "/slips"
    opt = perm("ledger.slips.view")

    async def _books_page(self, request: Request, *, status_code: int = 200, errors: dict | None = None,
                          message: str = "", form: dict | None = None, status: str = "issued", holder: str = "",
                          number: str = "", after: int | None = None) -> Response:
        rows, cursor = await slips.list_books(status=status, holder_user_id=_int(holder), number=_int(number), after=after)
        return render(request, "ledger/books.html", partial="ledger/_books.html", status_code=status_code,
                      **_ctx(rows=rows, cursor=cursor, errors=errors or {}, message=message, form=form or {},
                             status=status, holder=holder, number=number, first_page=after is None,
                             repairers=await repairers(), stock=await slips.stock_books(60),
                             to_exchange=await slips.books_to_exchange(8), book_size=await ledger_setting("ledger.book_size")))

    @get("/", name="slips.books")
    async def books(self, request: Request, status: FromQuery[str] = "issued", holder: FromQuery[str] = "",
                    number: FromQuery[str] = "", after: FromQuery[int | None] = None) -> Response:
        return await self._books_page(request, status=status, holder=holder, number=number, after=after)

    @post("/books", opt=perm("ledger.slips.manage"))
    async def create_books(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.CreateBooksForm, data)
            ids = await slips.create_books(actor(request), series=form.series, first_number=form.first_number,
                                           per_book=form.per_book, count=form.count or 1, kind=form.kind, note=form.note)
        except DomainError as exc:
            if not rerender(exc, 400):
                raise
            return await self._books_page(request, status_code=400, errors=exc.errors, message=exc.message, form=data)
        return redirect(request, "/slips?status=" + ("backup" if form.kind == "backup" else "stock"),
                        flash=_("%(n)s book(s) created.", n=len(ids)))

    @post("/books/{book_id:int}/issue", opt=perm("ledger.slips.manage"))
    async def issue(self, request: Request, book_id: FromPath[int]) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.IssueForm, data)
            await slips.issue_book(actor(request), book_id, form.holder_user_id, version=form.version)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._books_page(request, status_code=exc.status, errors=exc.errors, message=exc.message,
                                          form={**data, "issue_book_id": book_id})
        return redirect(request, f"/slips/books/{book_id}", flash=_("Book issued."))

    @post("/exchange", opt=perm("ledger.slips.manage"))
    async def exchange(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.ExchangeForm, data)
            await slips.exchange_book(actor(request), form.holder_user_id, form.new_book_id)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._books_page(request, status_code=exc.status, errors=exc.errors,
                                          message=exc.message, form={**data, "exchange": True})
        return redirect(request, "/slips?status=issued", flash=_("Book exchanged; the old book is closed."))

    @get("/books/{book_id:int}", opt=perm("ledger.slips.view", "ledger.slips.carry"), name="slips.book")
    async def book(self, request: Request, book_id: FromPath[int]) -> Response:
        return await self._book_page(request, book_id)

    async def _book_page(self, request: Request, book_id: int, *, status_code: int = 200, errors: dict | None = None,
                         message: str = "", form: dict | None = None, slip_id: int | None = None, action: str = "") -> Response:
        book = await slips.get_book(book_id)
        if book is None:
            raise not_found()
        user = request.scope["user"]
        if not can(user, "ledger.slips.view") and book["holder_user_id"] != user.id:
            raise refused(_("You may only see your own book."))
        rows = await slips.book_slips([book_id])
        missing = await slips.unaccounted(book_id)
        return render(request, "ledger/book.html", status_code=status_code,
                      **_ctx(book=book, rows=rows, summary=slips.summarize(rows), missing=missing, errors=errors or {},
                             message=message, form=form or {}, slip_id=slip_id, action=action, today=today(),
                             can_edit=can(user, "ledger.slips.manage"), is_holder=book["holder_user_id"] == user.id))

    async def _slip_action(self, request: Request, slip_id: int, action: str, schema: type, call) -> Response:
        slip = await slips.get_slip(slip_id)
        if slip is None:
            raise not_found()
        data = await form_data(request)
        try:
            await call(parse_or_raise(schema, data))
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._book_page(request, slip["book_id"], status_code=exc.status, errors=exc.errors,
                                         message=exc.message, form=data, slip_id=slip_id, action=action)
        back = "/slips/mine" if not _is_office(request) else f"/slips/books/{slip['book_id']}"
        done = {"void": _("Slip %(n)s voided.", n=slip["number"]),
                "transfer": _("Slip %(n)s moved to a backup slip.", n=slip["number"]),
                "delay": _("Delay slip recorded for slip %(n)s.", n=slip["number"])}
        return redirect(request, f"{back}#n{slip['number']}", flash=done.get(action) or _("Slip %(n)s saved.", n=slip["number"]))

    @post("/{slip_id:int}/void", opt=perm("ledger.slips.manage", "ledger.slips.carry"))
    async def void(self, request: Request, slip_id: FromPath[int]) -> Response:
        async def call(form: schemas.VoidForm):
            await slips.void_slip(actor(request), slip_id, reason=form.reason, handed_in_on=form.handed_in_on,
                                  version=form.version)
        return await self._slip_action(request, slip_id, "void", schemas.VoidForm, call)

    @post("/{slip_id:int}/transfer", opt=perm("ledger.slips.manage"))
    async def transfer(self, request: Request, slip_id: FromPath[int]) -> Response:
        async def call(form: schemas.TransferForm):
            await slips.transfer_slip(actor(request), slip_id, to_number=form.to_number, signed_by=form.signed_by,
                                      signed_on=form.signed_on, reason=form.reason, version=form.version)
        return await self._slip_action(request, slip_id, "transfer", schemas.TransferForm, call)

    @post("/{slip_id:int}/delay", opt=perm("ledger.slips.manage", "ledger.slips.carry"))
    async def delay(self, request: Request, slip_id: FromPath[int]) -> Response:
        async def call(form: schemas.DelayForm):
            await slips.add_delay(actor(request), slip_id, reason=form.reason, delay_ref=form.delay_ref,
                                  new_due_on=form.new_due_on)
        return await self._slip_action(request, slip_id, "delay", schemas.DelayForm, call)

    @post("/books/{book_id:int}/use", opt=perm("ledger.slips.manage", "ledger.slips.carry"))
    async def use(self, request: Request, book_id: FromPath[int]) -> Response:
        """Record the next slip from paper (finance) or by the holder — the same call tickets/bench make."""
        book = await slips.get_book(book_id)
        if book is None:
            raise not_found()
        user = request.scope["user"]
        if not can(user, "ledger.slips.manage") and book["holder_user_id"] != user.id:
            raise refused(_("You may only record slips of your own book."))
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.UseForm, data)
            await slips.record_slip_use(actor(request), book["holder_user_id"], form.number, form.job_type, form.job_id,
                                        form.amount, job_note=form.job_note)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._book_page(request, book_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                         form=data, action="use")
        back = "/slips/mine" if not _is_office(request) else f"/slips/books/{book_id}"
        return redirect(request, back, flash=_("Slip %(n)s recorded.", n=form.number))

    @post("/books/{book_id:int}/stubs", opt=perm("ledger.slips.manage"))
    async def stubs(self, request: Request, book_id: FromPath[int]) -> Response:
        n = await slips.receive_void_stubs(actor(request), book_id)
        return redirect(request, f"/slips/books/{book_id}", flash=_("%(n)s void stub(s) received.", n=n))

    @post("/books/{book_id:int}/handback", opt=perm("ledger.slips.manage"))
    async def handback(self, request: Request, book_id: FromPath[int]) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.HandbackForm, data)
            n = await slips.hand_back(actor(request), book_id, reason=form.reason, handed_on=form.handed_on,
                                      version=form.version)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._book_page(request, book_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                         form=data, action="handback")
        return redirect(request, f"/slips/books/{book_id}", flash=_("%(n)s unused number(s) handed back; the book is closed.", n=n))

    @get("/mine", opt=perm("ledger.slips.manage", "ledger.slips.carry"), name="slips.mine")
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
                raise not_found()
            data["books"] = [b]
        elif holder:
            data["books"] = await slips.holder_books_in_month(holder, month)
        if "books" in data:
            rows = await slips.book_slips([b["id"] for b in data["books"]])
            if holder and not book:  # a repairer's row of the month: the same numbers the summary counts
                start, end = slips.month_bounds(month)
                rows = slips.in_month(rows, holder, start, end)
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
        return render(request, "print/ledger/reconcile.html", **await paper(), **_ctx(**data, printed_on=today()))

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
                             (f"{labels.SOURCES['other']}：{s['job_note']}" if s["job_type"] == "other" else f"{labels.SOURCES.get(s['job_type'], '')} {s['job_id']}".strip()), from_fen(s["amount_fen"]) if s["state"] in ("used", "transferred") else None,
                             from_fen(s["receivable_fen"]) if s["receivable_fen"] is not None else None,
                             s["void_reason"] or "", transfer, s["delay_reason"] or "", ", ".join(flags)])
            sheets = [(_("Slips") + " " + data["month"], head, rows)]
        return xlsx_response(f"reconcile-{data['month']}.xlsx", workbook(sheets))


