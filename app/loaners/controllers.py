"""Loaner pages (issue #6): the pool with availability by model, the counter check-out (scan →
prefilled form → confirm), check-in with test, overdue lists, loan detail, the printable
spare-replacement notice, desk requests, the availability/offer fragments other pages embed.
(Home panels, the customer page's card and the RMA page's card are listed in manifest.py.)

Thin handlers: parse the form (schemas.py) → one service call → render or redirect. Refusals are
DomainError: a handler catches one only to re-render its own form; 403/404 go to the core handler.
"""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core.dates import parse_date
from app.core.db import new_form_token
from app.core.errors import DomainError, not_found
from app.core.forms import parse_or_raise
from app.core.i18n import _
from app.core.i18n import lazy_gettext as _l
from app.core.permissions import can, perm
from app.core.web import actor, form_data, redirect, render
from app.core.printing import paper
from app.loaners import services, triggers
from app.loaners.schemas import CheckinInput, CheckoutInput, ConvertForm, RecallForm, RequestInput, VersionForm
from app.loaners.status import LOAN_LABELS, REQUEST_LABELS

STATUS_LABELS = LOAN_LABELS
CASE_LABELS = {"rma": _l("Return repair (RMA)"), "ticket": _l("Service ticket"), "standalone": _l("Standalone")}
RESULT_LABELS = {"pass": _l("Passed"), "fail": _l("Failed")}
DEST_LABELS = {"pool": _l("Loaner pool"), "bench": _l("Bench"), "quarantine": _l("Quarantine")}
RULE_LABELS = {"not_fixed_on_site": _l("Not fixed within 2 h on site"), "cannot_solve": _l("Cannot be solved (72 h)"),
               "long_maintenance": _l("Maintenance over 12 h")}
TONES = {"out": "info", "returned": "ok", "converted": "muted"}


def present_loans(rows: list[dict]) -> list[SimpleNamespace]:
    """Loan rows as the tables show them, formatted once here (#15): the row template prints plain strings."""
    from app.core.i18n import format_date, format_datetime

    statuses = {code: str(label) for code, label in STATUS_LABELS.items()}
    cases = {code: str(label) for code, label in CASE_LABELS.items()}
    finished = _("case finished")
    for r in rows:
        case = cases.get(r["case_type"], "")
        r["case_text"] = f"{case} {r['case_label']}" if r["case_type"] != "standalone" else case
        r["out_text"] = format_datetime(r["out_at"], "short")
        r["expected_text"] = format_date(r["expected_return"])
        r["overdue_text"] = _("%(n)s days overdue", n=r["days_overdue"]) if r.get("days_overdue") else ""
        r["status_text"], r["tone"] = statuses.get(r["status"], ""), TONES.get(r["status"], "muted")
        r["finished_text"] = finished if r.get("case_finished_at") and r["status"] == "out" else ""
    # attribute objects, not dicts: Jinja's `r.x` on a dict first fails getattr (an exception per cell)
    return [SimpleNamespace(**r) for r in rows]


def _ctx(request: Request) -> dict:
    user = request.scope["user"]
    return {"status_labels": STATUS_LABELS, "case_labels": CASE_LABELS, "result_labels": RESULT_LABELS,
            "dest_labels": DEST_LABELS, "request_labels": REQUEST_LABELS, "rule_labels": RULE_LABELS,
            "can_keep": can(user, "loaners.keep"), "can_request": can(user, "loaners.request")}


def _own_form(exc: DomainError) -> None:
    """403 / 404 are not about the form: the core handler renders them; the rest re-renders the form."""
    if exc.status in (403, 404):
        raise exc


class LoanersController(Controller):
    path = "/loaners"
    opt = perm("loaners.view")

    # ------------------------------------------------------------------ pool and lists

    @get("/", name="loaners.pool")
    async def pool(self, request: Request, model: FromQuery[str] = "", q: FromQuery[str] = "",
                   after: FromQuery[int | None] = None) -> Response:
        units, cursor = await services.pool_units(q=q or model, after=after)
        return render(request, "loaners/pool.html", partial="loaners/_pool_rows.html", units=units, cursor=cursor, q=q,
                      model=model, avail=await services.availability(model, limit=40), overdue_n=await services.overdue_count(),
                      out_n=await services.out_count(), first_page=after is None, tab="pool", **_ctx(request))

    @get("/availability", name="loaners.availability")
    async def availability(self, request: Request, model: FromQuery[str] = "", wide: FromQuery[bool] = False) -> Response:
        """Reusable fragment: "3 of DS-7808N available" — embed with hx-get="/loaners/availability?model=…"."""
        return render(request, "loaners/_availability.html", partial="loaners/_availability.html",
                      avail=await services.availability(model, limit=40 if wide else 10), model=model, compact=not wide,
                      **_ctx(request))

    @get("/go")
    async def go(self, request: Request, q: FromQuery[str] = "") -> Response:
        """The scan box's Enter: a pool unit opens the check-out form, a unit out on loan the check-in,
        a notice number its loan."""
        q = q.strip()
        if not q:
            return redirect(request, "/loaners")
        user = request.scope["user"]
        unit, why = await services.pool_unit_by_serial(q)
        if unit is not None and not why:
            if can(user, "loaners.keep"):
                return redirect(request, "/loaners/checkout?" + urlencode({"serial": unit["serial"]}))
            return redirect(request, "/loaners?" + urlencode({"q": unit["serial"]}))
        loan = await services.open_loan_by_serial(q)
        if loan is not None:
            if can(user, "loaners.keep"):
                return redirect(request, "/loaners/checkin?" + urlencode({"serial": loan["serial"]}))
            return redirect(request, f"/loaners/{loan['id']}")
        rows, _cursor = await services.list_loans(q=q, limit=1)
        if rows and rows[0]["number"].upper() == q.upper():
            return redirect(request, f"/loaners/{rows[0]['id']}")
        return redirect(request, "/loaners?" + urlencode({"q": q}), flash=why or _("Nothing found for %(q)s.", q=q),
                        level="warning")

    @get("/out", name="loaners.out")
    async def out(self, request: Request, q: FromQuery[str] = "", status: FromQuery[str] = "out",
                  before: FromQuery[int | None] = None) -> Response:
        rows, cursor = await services.list_loans(status=status, q=q, before=before)
        first_base = "/loaners/out?" + urlencode({"status": status, "q": q})
        return render(request, "loaners/list.html", partial="loaners/_rows.html", rows=present_loans(rows), cursor=cursor, q=q,
                      status=status, first_page=before is None, tab="out" if status == "out" else "all",
                      first_base=first_base, next_base=first_base + "&before=", target="#loan-rows", **_ctx(request))

    @get("/overdue", name="loaners.overdue")
    async def overdue(self, request: Request, after: FromQuery[str] = "") -> Response:
        key = None
        if after and "_" in after:
            day, _sep, ident = after.partition("_")
            try:
                key = (parse_date(day), int(ident))
            except (ValueError, TypeError):
                key = None
        if key is None:
            await services.refresh_finished_cases(limit=100, every_seconds=60)
        rows, cursor = await services.overdue(after=key)
        finished = await services.finished_still_out(limit=100) if key is None else []
        return render(request, "loaners/overdue.html", partial="loaners/_rows.html", rows=present_loans(rows), cursor=cursor,
                      finished=present_loans(finished), first_page=key is None, tab="overdue", first_base="/loaners/overdue",
                      next_base="/loaners/overdue?after=", target=None, **_ctx(request))

    # ------------------------------------------------------------------ check-out

    async def _checkout_page(self, request: Request, form: CheckoutInput, *, status_code: int = 200,
                             errors: dict | None = None, message: str = "") -> Response:
        errors = dict(errors or {})
        unit = None
        if form.serial:
            unit, why = await services.pool_unit_by_serial(form.serial)
            if why:
                errors.setdefault("serial", why)
                unit = None
        customer = None
        if form.customer_id.isdigit():
            customer = await services.customer_brief(int(form.customer_id))
        req = await services.get_request(form.request_id) if form.request_id else None
        avail = await services.availability(unit["model"] if unit else (req["model"] if req and req["model"] else ""), limit=5) \
            if (unit or (req and req["model"])) else []
        fit = await services.checkout_fit(unit, form.device_serial, form.case_type, form.case_id)
        # HTMX asks the same URL for the fit warning alone (refreshed when the customer's unit changes): warns, never blocks
        return render(request, "loaners/checkout.html", partial="loaners/_fit.html", status_code=status_code, form=form,
                      errors=errors, message=message,
                      unit=unit, customer=customer, req=req, avail=avail, token=form.token or new_form_token(), fit=fit,
                      **_ctx(request))

    @get("/checkout", opt=perm("loaners.keep"), name="loaners.checkout")
    async def checkout_form(self, request: Request, serial: FromQuery[str] = "", customer_id: FromQuery[str] = "",
                            case_type: FromQuery[str] = "", case_id: FromQuery[str] = "", case_ref: FromQuery[str] = "",
                            device_serial: FromQuery[str] = "", request_id: FromQuery[str] = "",
                            trigger_rule: FromQuery[str] = "", reason: FromQuery[str] = "") -> Response:
        form = CheckoutInput(serial=serial.strip(), customer_id=customer_id.strip(), case_type=case_type or "ticket",
                             case_id=case_id.strip(), case_ref=case_ref.strip(), device_serial=device_serial.strip(),
                             request_id=request_id.strip(), trigger_rule=trigger_rule.strip(), reason=reason.strip(),
                             expected_return=(await services.default_return_date()).isoformat(),
                             condition_out=_("Intact, powers on, tested OK"))
        req = await services.get_request(request_id) if request_id.strip() else None
        if req is not None:
            form.customer_id = str(req["customer_id"])
            form.case_type, form.case_ref = req["case_type"], req["case_ref"]
            form.case_id = str(req["case_id"] or "")
            form.reason, form.trigger_rule = req["reason"], req["trigger_rule"]
        if form.case_type == "rma" and form.case_id and not form.customer_id:
            rma = await services.get_rma(int(form.case_id)) if form.case_id.isdigit() else None
            if rma:
                form.customer_id = str(rma.get("customer_id") or "")
                form.case_ref = str(rma.get("number") or form.case_ref)
                form.device_serial = form.device_serial or str(rma.get("device_serial") or "")
        return await self._checkout_page(request, form)

    @post("/checkout", opt=perm("loaners.keep"))
    async def checkout(self, request: Request) -> Response:
        form = parse_or_raise(CheckoutInput, await form_data(request))
        try:
            loan_id = await services.check_out(actor(request), form)
        except DomainError as exc:
            if (exc.current or {}).get("kind") == services.DUPLICATE:  # booked once already: open that loan
                return redirect(request, exc.link, flash=exc.message, level="info")
            _own_form(exc)
            return await self._checkout_page(request, form, status_code=exc.status, errors=exc.errors, message=exc.message)
        loan = await services.get_loan(loan_id)
        return redirect(request, f"/loaners/{loan_id}", flash=_(
            "Loaner %(serial)s checked out to %(customer)s — notice %(number)s.", serial=loan["serial"],
            customer=loan["customer_name"], number=loan["number"]))

    @get("/pick", opt=perm("loaners.keep", "loaners.request"))
    async def pick(self, request: Request, q: FromQuery[str] = "") -> Response:
        """The check-out form's customer/case search (HTMX fragment)."""
        return render(request, "loaners/_pick.html", partial="loaners/_pick.html", options=await services.pick(q), q=q,
                      **_ctx(request))

    # ------------------------------------------------------------------ check-in

    async def _checkin_page(self, request: Request, form: CheckinInput, *, status_code: int = 200,
                            errors: dict | None = None, message: str = "") -> Response:
        loan = await services.open_loan_by_serial(form.serial) if form.serial else None
        if loan is not None and not form.condition_in and status_code == 200:
            form.condition_in = _("Intact, accessories complete")
        errors = dict(errors or {})
        if form.serial and loan is None and "serial" not in errors:
            errors["serial"] = _("Unit %(serial)s is not out on loan: nothing to check in.", serial=form.serial)
        return render(request, "loaners/checkin.html", status_code=status_code, form=form, loan=loan, errors=errors,
                      message=message, warnings=await services.checkin_warnings(loan, form.recall_ref), **_ctx(request))

    @get("/checkin", opt=perm("loaners.keep"), name="loaners.checkin")
    async def checkin_form(self, request: Request, serial: FromQuery[str] = "") -> Response:
        return await self._checkin_page(request, CheckinInput(serial=serial.strip()))

    @post("/checkin", opt=perm("loaners.keep"))
    async def checkin(self, request: Request) -> Response:
        form = parse_or_raise(CheckinInput, await form_data(request))
        try:
            loan_id = await services.check_in(actor(request), form)
        except DomainError as exc:
            _own_form(exc)
            return await self._checkin_page(request, form, status_code=exc.status, errors=exc.errors, message=exc.message)
        return await self._after_checkin(request, loan_id)

    async def _after_checkin(self, request: Request, loan_id: int) -> Response:
        loan = await services.get_loan(loan_id)
        return redirect(request, f"/loaners/{loan_id}", flash=_(
            "Loaner %(serial)s checked in (%(result)s) → %(dest)s.", serial=loan["serial"],
            result=RESULT_LABELS[loan["test_result"]], dest=DEST_LABELS[loan["returned_to"]]))

    # ------------------------------------------------------------------ one loan

    async def _detail(self, request: Request, loan_id: int, *, status_code: int = 200, errors: dict | None = None,
                      message: str = "", form: CheckinInput | None = None) -> Response:
        loan = await services.get_loan(loan_id)
        if loan is None:
            raise not_found()
        history = await services.unit_history(loan["serial_unit_id"], limit=10)
        trig = await services.recorded_triggers(loan["case_type"], loan["case_ref"]) if loan["case_ref"] else []
        return render(request, "loaners/detail.html", status_code=status_code, loan=loan, history=present_loans(history), triggers=trig,
                      errors=errors or {}, message=message, form=form or CheckinInput(serial=loan["serial"]),
                      fit=await services.loan_fit(loan), warnings=await services.checkin_warnings(loan), **_ctx(request))

    @get("/{loan_id:int}", name="loaners.detail")
    async def detail(self, request: Request, loan_id: FromPath[int]) -> Response:
        return await self._detail(request, loan_id)

    @post("/{loan_id:int}/checkin", opt=perm("loaners.keep"))
    async def detail_checkin(self, request: Request, loan_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        form = parse_or_raise(CheckinInput, raw)
        form.version = parse_or_raise(VersionForm, raw).version  # the loan page's form always carries one
        try:
            await services.check_in(actor(request), form, loan_id)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, loan_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                      form=form)
        return await self._after_checkin(request, loan_id)

    @post("/{loan_id:int}/recall", opt=perm("loaners.follow_up"))
    async def recall(self, request: Request, loan_id: FromPath[int]) -> Response:
        form = parse_or_raise(RecallForm, await form_data(request))
        try:
            await services.recall_notice(actor(request), loan_id, form.recall_ref, version=form.version)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, loan_id, status_code=exc.status, errors=exc.errors, message=exc.message)
        return redirect(request, f"/loaners/{loan_id}", flash=_("Notice recalled through dispatch slip %(ref)s.",
                                                                ref=form.recall_ref))

    @post("/{loan_id:int}/case-finished", opt=perm("loaners.follow_up"))
    async def case_finished(self, request: Request, loan_id: FromPath[int]) -> Response:
        form = parse_or_raise(VersionForm, await form_data(request))
        try:
            await services.mark_case_finished(actor(request), loan_id, version=form.version)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, loan_id, status_code=exc.status, message=exc.message)
        return redirect(request, f"/loaners/{loan_id}", flash=_("Case marked finished: the loaner is on the follow-up list."))

    @post("/{loan_id:int}/convert", opt=perm("loaners.keep"))
    async def convert(self, request: Request, loan_id: FromPath[int]) -> Response:
        form = parse_or_raise(ConvertForm, await form_data(request))
        try:
            await services.convert_to_permanent(actor(request), loan_id, approval_ref=form.approval_ref,
                                                note=form.conversion_note, version=form.version)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, loan_id, status_code=exc.status, errors=exc.errors, message=exc.message)
        return redirect(request, f"/loaners/{loan_id}", flash=_("The loaner is now the customer's unit (permanent replacement)."))

    @get("/{loan_id:int}/notice", name="loaners.notice")
    async def notice(self, request: Request, loan_id: FromPath[int]) -> Response:
        """A4 spare-replacement notice (故障处理备品替换通知) with signature lines (X-01)."""
        loan = await services.get_loan(loan_id)
        if loan is None:
            raise not_found()
        return render(request, "print/loaners/notice.html", **await paper(), loan=loan, **_ctx(request))

    # ------------------------------------------------------------------ triggers offered on case pages

    @get("/offer", name="loaners.offer")
    async def offer(self, request: Request, case_type: FromQuery[str] = "rma", case_id: FromQuery[str] = "",
                    case_ref: FromQuery[str] = "", model: FromQuery[str] = "", arrived_at: FromQuery[str] = "",
                    fixed_at: FromQuery[str] = "", cannot_solve_at: FromQuery[str] = "",
                    maintenance_started_at: FromQuery[str] = "", maintenance_ended_at: FromQuery[str] = "") -> Response:
        """Fragment for ticket and RMA pages (R-LOAN-02): which rule entitles a free loaner, availability
        of the model, and the button to lend (keeper) or request (desk)."""
        facts = {k: v for k, v in (("arrived_at", arrived_at), ("fixed_at", fixed_at), ("cannot_solve_at", cannot_solve_at),
                                   ("maintenance_started_at", maintenance_started_at),
                                   ("maintenance_ended_at", maintenance_ended_at)) if v}
        cid = int(case_id) if case_id.strip().isdigit() else None
        hits = await services.triggers_for_case(case_type, cid, facts or None)
        rma = await services.get_rma(cid) if case_type == "rma" and cid else None
        model = model or (str(rma.get("model") or "") if rma else "")
        open_loans = await services.loans_for_case(case_type, cid, case_ref) if (cid or case_ref) else []
        th = await services.thresholds()
        params = {"case_type": case_type, "case_id": case_id, "case_ref": case_ref or (rma or {}).get("number", ""),
                  "trigger_rule": hits[0].rule if hits else ""}
        # a plain GET (the RMA card's link) is the full page; the card itself loads the fragment
        return render(request, "loaners/offer.html", partial="loaners/_offer.html", hits=hits, th=th, model=model,
                      avail=await services.availability(model, limit=3) if model else [], rma=rma,
                      loans=[r for r in open_loans if r["status"] == "out"], params=urlencode(params),
                      **_ctx(request))

    # ------------------------------------------------------------------ requests (desk → keeper)

    @get("/requests", name="loaners.requests")
    async def requests(self, request: Request) -> Response:
        return render(request, "loaners/requests.html", rows=await services.open_requests(limit=200), tab="requests",
                      **_ctx(request))

    @get("/requests/new", opt=perm("loaners.request"))
    async def new_request(self, request: Request, customer_id: FromQuery[str] = "", case_type: FromQuery[str] = "ticket",
                          case_id: FromQuery[str] = "", case_ref: FromQuery[str] = "", model: FromQuery[str] = "",
                          trigger_rule: FromQuery[str] = "") -> Response:
        form = RequestInput(customer_id=customer_id, case_type=case_type, case_id=case_id, case_ref=case_ref, model=model,
                            trigger_rule=trigger_rule)
        return await self._request_page(request, form)

    async def _request_page(self, request: Request, form: RequestInput, *, status_code: int = 200,
                            errors: dict | None = None, message: str = "") -> Response:
        customer = None
        if str(form.customer_id).isdigit():
            customer = await services.customer_brief(int(form.customer_id))
        return render(request, "loaners/request_form.html", status_code=status_code, form=form, customer=customer,
                      errors=errors or {}, message=message, rules=triggers.RULES, **_ctx(request))

    @post("/requests", opt=perm("loaners.request"))
    async def create_request(self, request: Request) -> Response:
        form = parse_or_raise(RequestInput, await form_data(request))
        try:
            await services.create_request(actor(request), form)
        except DomainError as exc:
            _own_form(exc)
            return await self._request_page(request, form, status_code=exc.status, errors=exc.errors, message=exc.message)
        return redirect(request, "/loaners/requests", flash=_("Loaner requested: the warehouse keeper will fulfil it."))

    @post("/requests/{request_id:int}/cancel", opt=perm("loaners.request"))
    async def cancel_request(self, request: Request, request_id: FromPath[int]) -> Response:
        try:
            await services.cancel_request(actor(request), request_id)
        except DomainError as exc:
            _own_form(exc)  # a request no longer open: back to the list with the reason
            return redirect(request, "/loaners/requests", flash=exc.message, level="warning")
        return redirect(request, "/loaners/requests", flash=_("Request cancelled."))


CONTROLLERS = [LoanersController]
