"""Receivables pages (/receivables) and the per-technician sales ledger: thin handlers → one service call."""

from __future__ import annotations

import datetime as dt
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
from app.ledger import receivables as ar
from app.ledger import schemas
from app.ledger.common import ledger_setting, week_start
from app.ledger.controllers._common import ctx as _ctx
from app.ledger.controllers._common import int_or_none as _int
from app.ledger.controllers._common import month_or_current as _month
from app.ledger.controllers._common import pay_form as _pay_form
from app.ledger.controllers._common import rerender


class ReceivableController(Controller):
    path = "/receivables"
    opt = perm("ledger.view")

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
                 f"{labels.SOURCES.get(r['source_type'], '')} {r['source_id']}".strip(), r["description"], r["tech_name"] or r["tech_username"] or "",
                 from_fen(r["amount_fen"]), from_fen(r["paid_fen"]), from_fen(r["open_fen"]), r["due_date"],
                 r["statement_number"] or ""] for r in rows]
        return xlsx_response(f"receivables-{today().isoformat()}.xlsx", workbook([(_("Receivables"), head, data)]))

    # ------------------------------------------------------------ one line

    async def _line_page(self, request: Request, rid: int, *, status_code: int = 200, errors: dict | None = None,
                         message: str = "", form: dict | None = None, action: str = "") -> Response:
        line = await ar.get_receivable(rid)
        if line is None:
            raise not_found()
        if form is None:
            form = {**_pay_form(), "amount": str(from_fen(line["open_fen"])) if line["open_fen"] else ""}
        return render(request, "ledger/receivable.html", status_code=status_code,
                      **_ctx(line=line, errors=errors or {}, message=message, action=action, form=form, today=today()))

    @get("/{rid:int}", name="receivables.detail")
    async def line(self, request: Request, rid: FromPath[int]) -> Response:
        return await self._line_page(request, rid)

    async def _pay(self, request: Request, *, statement_id: int | None = None, receivable_id: int | None = None) -> Response:
        """One payment form for a statement or a single line (same schema, same service, same answers)."""
        data = await form_data(request)
        target = f"/receivables/statements/{statement_id}" if statement_id else f"/receivables/{receivable_id}"
        try:
            form = parse_or_raise(schemas.PaymentForm, data)
            _pid, created = await ar.record_payment(actor(request), form.token, amount=form.amount,
                                                    received_on=form.received_on, method=form.method,
                                                    reference=form.reference, statement_id=statement_id,
                                                    receivable_id=receivable_id)
        except DomainError as exc:
            if not rerender(exc):
                raise
            if statement_id:
                return await self._statement_page(request, statement_id, status_code=exc.status, errors=exc.errors,
                                                  message=exc.message, form=data)
            return await self._line_page(request, receivable_id, status_code=exc.status, errors=exc.errors,
                                         message=exc.message, form=data, action="pay")
        return redirect(request, target, flash=_("Payment recorded.") if created else _("This payment was already recorded."))

    @post("/{rid:int}/pay", opt=perm("ledger.receivables.manage"))
    async def pay_line(self, request: Request, rid: FromPath[int]) -> Response:
        return await self._pay(request, receivable_id=rid)

    @post("/{rid:int}/extension", opt=perm("ledger.receivables.manage", "ledger.receivables.register"))
    async def extension(self, request: Request, rid: FromPath[int]) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.ExtensionForm, data)
            await ar.request_extension(actor(request), rid, reason=form.reason, requested_due_date=form.requested_due_date)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._line_page(request, rid, status_code=exc.status, errors=exc.errors,
                                         message=exc.message, form={**_pay_form(), **data}, action="extension")
        return redirect(request, f"/receivables/{rid}", flash=_("Extension requested; the manager decides."))

    @post("/{rid:int}/followup", opt=perm("ledger.overdue.followup"))
    async def followup(self, request: Request, rid: FromPath[int]) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.FollowupForm, data)
            await ar.save_followup(actor(request), rid, form.note)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._line_page(request, rid, status_code=exc.status, errors=exc.errors, message=exc.message,
                                         form={**_pay_form(), **data}, action="followup")
        back = form.back or f"/receivables/{rid}"
        if not back.startswith("/receivables"):
            back = f"/receivables/{rid}"
        return redirect(request, back, flash=_("Follow-up saved."))

    @get("/new", opt=perm("ledger.receivables.manage"))
    async def new_line(self, request: Request) -> Response:
        return render(request, "ledger/receivable_form.html",
                      **_ctx(form={"account_class": "retail", "posted_on": today().isoformat()}, errors={}, message="",
                             technicians=await ar.technicians()))

    @post("/new", opt=perm("ledger.receivables.manage"))
    async def create_line(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.ManualLineForm, data)
            rid = await ar.post_manual(actor(request), source_id=form.source_id, customer_id=None,
                                       customer_name=form.customer_name, account_class=form.account_class,
                                       amount=form.amount, description=form.description,
                                       technician_user_id=form.technician_user_id, due_date=form.due_date,
                                       posted_on=form.posted_on)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return render(request, "ledger/receivable_form.html", status_code=400,
                          **_ctx(form=data, errors=exc.errors, message=exc.message, technicians=await ar.technicians()))
        return redirect(request, f"/receivables/{rid}", flash=_("Receivable posted."))

    # ------------------------------------------------------------ sales confirmations (R-AR-01)

    async def _sales_page(self, request: Request, *, status_code: int = 200, errors: dict | None = None, message: str = "",
                          form: dict | None = None) -> Response:
        return render(request, "ledger/sales.html", status_code=status_code,
                      **_ctx(recent=await ar.recent_sales_confirmations(30), errors=errors or {}, message=message,
                             form=form or {"account_class": "monthly", "sold_on": today().isoformat()},
                             technicians=await ar.technicians()))

    @get("/sales", name="receivables.sales")
    async def sales(self, request: Request) -> Response:
        return await self._sales_page(request)

    @post("/sales", opt=perm("ledger.receivables.register"))
    async def register_sale(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.SaleForm, data)
            _sid, number = await ar.register_sales_confirmation(
                actor(request), customer_name=form.customer_name, customer_id=None, account_class=form.account_class,
                technician_user_id=form.technician_user_id, amount=form.amount, description=form.description,
                sold_on=form.sold_on)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._sales_page(request, status_code=400, errors=exc.errors, message=exc.message, form=data)
        return redirect(request, "/receivables/sales", flash=_("Sales confirmation %(n)s registered.", n=number))

    # ------------------------------------------------------------ statements (R-AR-02)

    @get("/statements", name="receivables.statements")
    async def statements(self, request: Request, status: FromQuery[str] = "", q: FromQuery[str] = "",
                         month: FromQuery[str] = "", after: FromQuery[int | None] = None) -> Response:
        month = _month(month) if month else (today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        rows, cursor = await ar.list_statements(status=status if status in labels.STATEMENT_STATUS else "", q=q.strip(), after=after)
        user = request.scope["user"]
        candidates = await ar.statement_candidates(month) if can(user, "ledger.receivables.register") else []
        return render(request, "ledger/statements.html", partial="ledger/_statement_rows.html",
                      **_ctx(rows=rows, cursor=cursor, status=status, q=q, month=month, candidates=candidates,
                             first_page=after is None, counts=await ar.panel_counts(), errors={}, message=""))

    @post("/statements/draft", opt=perm("ledger.receivables.register"))
    async def draft(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.DraftForm, data)
            sid = await ar.draft_statement(actor(request), form.customer_name, form.month)
        except DomainError as exc:
            if not rerender(exc):
                raise
            month = str(data.get("month", ""))[:10]
            return redirect(request, f"/receivables/statements?month={month}", flash=exc.message, level="danger")
        return redirect(request, f"/receivables/statements/{sid}", flash=_("Statement drafted; it waits for the manager's review."))

    async def _statement_page(self, request: Request, sid: int, *, status_code: int = 200, errors: dict | None = None,
                              message: str = "", form: dict | None = None) -> Response:
        st = await ar.get_statement(sid)
        if st is None:
            raise not_found()
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
            raise not_found()
        return render(request, "print/ledger/statement.html", **await paper(), **_ctx(st=st, printed_on=today()))

    @post("/statements/{sid:int}/move",
          opt=perm("ledger.receivables.register", "ledger.statements.review", "ledger.receivables.manage"))
    async def move(self, request: Request, sid: FromPath[int]) -> Response:
        data = await form_data(request)
        try:
            form = parse_or_raise(schemas.MoveForm, data)
            status = await ar.move_statement(actor(request), sid, form.verb, form.version, form.note)
        except DomainError as exc:
            if not rerender(exc):
                raise
            return await self._statement_page(request, sid, status_code=exc.status, errors=exc.errors, message=exc.message,
                                              form={**_pay_form(), "note": data.get("note", "")})
        return redirect(request, f"/receivables/statements/{sid}",
                        flash=_("Statement: %(s)s.", s=labels.STATEMENT_STATUS.get(status, status)))

    @post("/statements/{sid:int}/pay", opt=perm("ledger.receivables.manage"))
    async def pay_statement(self, request: Request, sid: FromPath[int]) -> Response:
        return await self._pay(request, statement_id=sid)

    # ------------------------------------------------------------ extensions (R-AR-03)

    @get("/extensions", name="receivables.extensions")
    async def extensions(self, request: Request, status: FromQuery[str] = "pending") -> Response:
        status = status if status in labels.EXT_STATUS else "pending"
        return render(request, "ledger/extensions.html", **_ctx(rows=await ar.list_extensions(status), status=status))

    @post("/extensions/{eid:int}/decide", opt=perm("ledger.extensions.decide"))
    async def decide(self, request: Request, eid: FromPath[int]) -> Response:
        form = parse_or_raise(schemas.DecideForm, await form_data(request))
        approve = form.decision == "approve"
        await ar.decide_extension(actor(request), eid, approve, note=form.note, version=form.version)
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
        if year is None or not 2000 <= year <= 2100:  # an absurd ?year= shows this year, never a 500
            year = today().year
        return await _calendar_page(request, year, errors={}, message="", form={},
                                    can_edit=can(request.scope["user"], "ledger.calendar.edit"))

    @post("/calendar", opt=perm("ledger.calendar.edit"))
    async def calendar_set(self, request: Request) -> Response:
        data = await form_data(request)
        day = None
        try:
            form = parse_or_raise(schemas.CalendarForm, data)
            day = form.day
            if form.remove:
                await ar.delete_calendar_day(actor(request), day)
            else:
                await ar.set_calendar_day(actor(request), day, form.is_working, form.name)
        except DomainError as exc:
            if not rerender(exc):
                raise
            year = (day or today()).year
            return await _calendar_page(request, year, status_code=400, errors=exc.errors, message=exc.message,
                                        form=data, can_edit=True)
        return redirect(request, f"/receivables/calendar?year={day.year}", flash=_("Calendar saved."))


class SalesLedgerController(Controller):
    """R-AR-04: the per-technician sales ledger (技术员销售台帐); technicians see their own."""

    path = "/receivables/ledger"
    opt = perm("ledger.view", "ledger.slips.carry")

    @get("/", name="receivables.ledger")
    async def ledger(self, request: Request, tech: FromQuery[str] = "", week: FromQuery[str] = "") -> Response:
        user = request.scope["user"]
        office = can(user, "ledger.view")
        tech_id = _int(tech) if office else user.id
        if not office and tech and _int(tech) != user.id:
            raise refused(_("You may only see your own sales ledger."))
        try:
            day = dt.date.fromisoformat(week) if week else today()
        except ValueError:
            day = today()
        data = await ar.technician_ledger(tech_id, day) if tech_id else None
        return render(request, "ledger/sales_ledger.html",
                      **_ctx(data=data, tech_id=tech_id, technicians=await ar.technicians() if office else [],
                             office=office, prev_week=(week_start(day) - dt.timedelta(days=7)).isoformat(),
                             next_week=(week_start(day) + dt.timedelta(days=7)).isoformat(), today=today()))

    @post("/check", opt=perm("ledger.receivables.register"))
    async def check(self, request: Request) -> Response:
        form = parse_or_raise(schemas.WeekCheckForm, await form_data(request))
        target = f"/receivables/ledger?tech={form.tech}&week={form.week}"
        try:
            await ar.check_week(actor(request), form.tech, form.week, form.note)
        except DomainError as exc:
            if not rerender(exc, 409):
                raise
            return redirect(request, target, flash=exc.message, level="warning")
        return redirect(request, target, flash=_("Week reconciled."))


async def _calendar_page(request: Request, year: int, status_code: int = 200, **extra: Any) -> Response:
    """The working-day calendar: official days and overrides of `year`, the coverage warning, the retail term."""
    return render(request, "ledger/calendar.html", status_code=status_code,
                  **_ctx(days=await ar.calendar_days(year), year=year, coverage=ar.calendar_coverage(year),
                         retail_days=await ledger_setting("ledger.retail_due_working_days"), **extra))
