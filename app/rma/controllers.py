"""Bench pages (issue #5): the live board, intake, RMA detail with timeline, replacement
approvals, overdue lists, the monthly report, print views.

Thin handlers: parse the form → one service call → render or redirect. A card advanced
from the board answers with an empty card (removed from its column) plus out-of-band
swaps of the destination column and both column counts — no full reload.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from markupsafe import Markup

from app.core.permissions import roles
from app.core.i18n import _, tz
from app.core.i18n import lazy_gettext as _l
from app.core.money import from_fen
from app.core.nav import HomePanel, NavEntry, register_nav, register_panel
from app.rma import services as svc
from app.rma.services import RmaError, Stale
from app.core.web import actor, form_data, is_htmx, redirect, render, render_string

ACTION_ROLES = tuple(sorted(set(svc.BENCH_ROLES + svc.SHIP_ROLES + svc.CALLBACK_ROLES + svc.CLOSE_ROLES)))
SIDE_ROLES = ("bench", "qc", "desk", "finance", "manager")


def _ctx(**extra: Any) -> dict:
    return {"statuses": svc.STATUSES, "actions": svc.ACTIONS, "appearance": svc.APPEARANCE, "outcomes": svc.OUTCOMES,
            "quote_statuses": svc.QUOTE_STATUSES, "answers": svc.ANSWERS, "open_statuses": svc.OPEN_STATUSES,
            "replacement_statuses": svc.REPLACEMENT_STATUSES, "today": svc.today(), **extra}


def _labels(user) -> dict:
    """Card labels translated once per request (a board renders hundreds of cards)."""
    return {
        "oow": _("OOW"), "oow_title": _("Out of warranty"), "rework": _("rework"), "fault": _("Fault"),
        "technician": _("Technician"), "age_title": _("Age since received"), "d": _("d"),
        "window": _("3-day repair window"), "window_over": _("3-day window over by"), "left": _("left"),
        "burn_in_left": _("burn-in left"), "burn_in_done": _("burn-in done"), "ship_overdue": _("ship overdue"),
        "replacement_applied": _("replacement applied"), "proposed": _("replacement proposed"),
        "proposed_title": _("Same fault repaired twice (R-CUS-06)"), "open": _("Open"),
        "allowed": {code for code, a in svc.ACTIONS.items() if user is not None and user.has(*a.roles)},
        "action_labels": {code: str(a.label) for code, a in svc.ACTIONS.items()},
    }


def _loaners_enabled(request: Request) -> bool:
    """The loaners domain (issue #6) is optional: link to it only when its routes exist."""
    return any(getattr(route, "path", "") == "/loaners/offer" for route in request.app.routes)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _refuse(exc: RmaError) -> None:
    if exc.status == 403:
        raise PermissionDeniedException(exc.message)
    if exc.status == 404:
        raise NotFoundException(exc.message)


def _s(raw: dict, key: str) -> str:
    value = raw.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "")


# One entry per transition: (service call from the parsed form).
Transition = Callable[[Any, int, Any, dict], Awaitable[dict]]
TRANSITIONS: dict[str, Transition] = {
    "unbox": lambda a, i, v, f: svc.unbox(a, i, v, appearance=_s(f, "appearance"), accessories=_s(f, "accessories"),
                                          photos=_s(f, "photos"), damage_call=_s(f, "damage_call"),
                                          damage_cause=_s(f, "damage_cause")),
    "confirm": lambda a, i, v, f: svc.confirm(a, i, v, note=_s(f, "note"), contact_phone=_s(f, "contact_phone"),
                                              address=_s(f, "address")),
    "qc": lambda a, i, v, f: svc.qc(a, i, v, fault_code=_s(f, "fault_code"), fault_confirmed=_s(f, "fault_confirmed"),
                                    test_note=_s(f, "test_note"), unresolvable=_s(f, "unresolvable") in ("1", "on", "true")),
    "start": lambda a, i, v, f: svc.start_repair(a, i, v),
    "ship-unrepaired": lambda a, i, v, f: svc.ship_unrepaired(a, i, v, note=_s(f, "note")),
    "repaired": lambda a, i, v, f: svc.repaired(a, i, v, fault_found=_s(f, "fault_found"), part_no=_s(f, "part_no"),
                                                qty=_s(f, "qty"), serial=_s(f, "part_serial")),
    "burn-in": lambda a, i, v, f: svc.start_burn_in(a, i, v, hours=_s(f, "hours")),
    "final-test": lambda a, i, v, f: svc.final_test(a, i, v, result=_s(f, "result"), note=_s(f, "note")),
    "ship": lambda a, i, v, f: svc.ship(a, i, v, carrier=_s(f, "carrier"), tracking_no=_s(f, "tracking_no"),
                                        customer_told_on=_s(f, "customer_told_on")),
    "deliver": lambda a, i, v, f: svc.deliver(a, i, v, delivered_on=_s(f, "delivered_on")),
    "callback": lambda a, i, v, f: svc.callback(a, i, v, note=_s(f, "note")),
    "close": lambda a, i, v, f: svc.close(a, i, v, note=_s(f, "note")),
}


async def _form_defaults(rma: dict, action: str) -> dict:
    today = svc.today().isoformat()
    if action == "burn-in":
        return {"hours": str(await svc.burn_in_hours_for(rma["model"]))}
    if action in ("ship",):
        return {"customer_told_on": today}
    if action == "deliver":
        return {"delivered_on": today}
    if action == "final-test":
        return {"result": "pass"}
    if action == "unbox":
        return {"appearance": ""}
    return {}


class BenchController(Controller):
    path = "/bench"
    opt = roles(*svc.READ_ROLES)

    # ------------------------------------------------------------------ board

    @get("/", name="rma.board")
    async def board(self, request: Request, tech: FromQuery[str] = "", open: FromQuery[str] = "") -> Response:
        await svc.sweep_if_due()
        tech_id = _int(tech)
        data = await svc.board(technician_id=tech_id)
        return render(request, "rma/board.html", data=data, tech=tech_id, techs=await svc.bench_users(),
                      open_id=_int(open), L=_labels(request.scope["user"]), **_ctx())

    @get("/scan", name="rma.scan")
    async def scan(self, request: Request, q: FromQuery[str] = "") -> Response:
        """The board's scan box: a serial or RMA number opens its card (closed ones: the detail page)."""
        hit = await svc.find_by_scan(q)
        if hit is None:
            return redirect(request, "/bench/receive?serial=" + quote(q.strip()),
                            flash=_("No return for %(q)s yet: receive it.", q=q.strip()) if q.strip() else None,
                            level="warning")
        if hit["status"] == "closed":
            return redirect(request, f"/bench/{hit['id']}")
        return redirect(request, f"/bench?open={hit['id']}#rma-{hit['id']}")

    @get("/{rma_id:int}/card", name="rma.card")
    async def card(self, request: Request, rma_id: FromPath[int]) -> Response:
        card = await svc.card(rma_id)
        if card is None:
            raise NotFoundException()
        return render(request, "rma/_card.html", c=card, open_form=None, L=_labels(request.scope["user"]), **_ctx())

    @get("/{rma_id:int}/form/{action:str}", name="rma.card_form")
    async def card_form(self, request: Request, rma_id: FromPath[int], action: FromPath[str], tech: FromQuery[str] = "") -> Response:
        """The inputs a transition needs, asked inline in the card (HTMX)."""
        rma = await svc.get_rma(rma_id)
        if rma is None or action not in svc.ACTIONS:
            raise NotFoundException()
        return render(request, "rma/_card_form.html", rma=rma, action=svc.ACTIONS[action], form=await _form_defaults(rma, action),
                      errors={}, message="", board=True, techs=[], tech=_int(tech), **_ctx())

    # ------------------------------------------------------------------ transitions

    @post("/{rma_id:int}/{action:str}", opt=roles(*ACTION_ROLES))
    async def transition(self, request: Request, rma_id: FromPath[int], action: FromPath[str]) -> Response:
        fn = TRANSITIONS.get(action)
        if fn is None:
            raise NotFoundException()
        raw = await form_data(request)
        from_board = _s(raw, "from_board") == "1" and is_htmx(request)
        tech_id = _int(_s(raw, "tech"))
        before = await svc.get_rma(rma_id)
        if before is None:
            raise NotFoundException()
        try:
            moved = await fn(actor(request), rma_id, _s(raw, "version"), raw)
        except RmaError as exc:
            _refuse(exc)
            if from_board:
                return await self._card_error(request, rma_id, action, raw, exc, tech_id)
            return await self._detail(request, rma_id, status_code=exc.status, message=exc.message, errors=exc.errors,
                                      form=raw, failed_action=action, link=exc.link)
        label = str(svc.STATUSES[moved["status"]])
        if from_board:
            return await self._moved(request, before["status"], moved["status"], tech_id,
                                     _("%(number)s → %(stage)s", number=moved["number"], stage=label))
        return redirect(request, f"/bench/{rma_id}", flash=_("%(number)s → %(stage)s", number=moved["number"], stage=label))

    async def _card_error(self, request: Request, rma_id: int, action: str, raw: dict, exc: RmaError,
                          tech_id: int | None) -> Response:
        rma = await svc.get_rma(rma_id)
        if isinstance(exc, Stale) or exc.status == 409 and not exc.errors:
            card = await svc.card(rma_id)
            return render(request, "rma/_card.html", status_code=409, c=card, open_form=None, card_message=exc.message,
                          card_link=exc.link, tech=tech_id, L=_labels(request.scope["user"]), **_ctx())
        form_html = Markup(render_string(request, "rma/_card_form.html", rma=rma, action=svc.ACTIONS[action], form=raw,
                                         errors=exc.errors, message=exc.message, board=True, tech=tech_id, **_ctx()))
        card = await svc.card(rma_id)
        return render(request, "rma/_card.html", status_code=exc.status, c=card, form_html=form_html, tech=tech_id,
                      L=_labels(request.scope["user"]), **_ctx())

    async def _moved(self, request: Request, from_status: str, to_status: str, tech_id: int | None, note: str) -> Response:
        """The moved card leaves its column; the destination column and both counts swap in out of band."""
        cards, count_to = await svc.column(to_status, technician_id=tech_id)
        count_from = await svc.count_of(from_status, tech_id) if from_status in svc.OPEN_STATUSES else 0
        body = render_string(request, "rma/_moved.html", from_status=from_status, to_status=to_status, cards=cards,
                             count_from=count_from, count_to=count_to, note=note, tech=tech_id, open_form=None,
                             L=_labels(request.scope["user"]), **_ctx())
        return Response(content=body, media_type="text/html", status_code=200)

    # ------------------------------------------------------------------ intake

    @get("/receive", name="rma.receive", opt=roles(*svc.INTAKE_ROLES))
    async def receive_form(self, request: Request, serial: FromQuery[str] = "") -> Response:
        form = svc.IntakeInput(serial=serial.strip())
        return await self._receive_page(request, form, {}, "")

    async def _receive_page(self, request: Request, form: svc.IntakeInput, errors: dict, message: str,
                            status_code: int = 200) -> Response:
        from app.customers import services as customers

        device = warranty = open_rma = None
        if form.serial:
            device = await customers.lookup_device(form.serial)
            if device is not None:
                warranty = await customers.warranty_status(device_id=device["id"])
            hit = await svc.find_by_scan(form.serial)
            if hit and hit["status"] in svc.BENCH_STATUSES:
                open_rma = await svc.get_rma(hit["id"])
        return render(request, "rma/receive.html", status_code=status_code, form=form, errors=errors, message=message,
                      device=device, warranty=warranty, open_rma=open_rma, **_ctx())

    @post("/receive", opt=roles(*svc.INTAKE_ROLES))
    async def receive(self, request: Request) -> Response:
        raw = await form_data(request)
        form = svc.IntakeInput(**{k: _s(raw, k) for k in svc.IntakeInput.__dataclass_fields__})
        try:
            rma_id, number = await svc.receive(actor(request), form)
        except RmaError as exc:
            _refuse(exc)
            return await self._receive_page(request, form, exc.errors, exc.message, status_code=exc.status)
        return redirect(request, f"/bench/{rma_id}", flash=_("Return %(number)s received.", number=number))

    # ------------------------------------------------------------------ detail

    @get("/{rma_id:int}", name="rma.detail")
    async def detail(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._detail(request, rma_id)

    async def _detail(self, request: Request, rma_id: int, *, status_code: int = 200, message: str = "",
                      errors: dict | None = None, form: dict | None = None, failed_action: str = "",
                      side: str = "", link: str = "") -> Response:
        rma = await svc.get_rma(rma_id)
        if rma is None:
            raise NotFoundException()
        extras = await svc.detail_extras(rma_id)
        card = svc.make_card(rma, svc.utcnow(), await svc.rules())
        next_action = svc.NEXT_ACTION.get(rma["status"], "")
        action_code = failed_action if failed_action in svc.ACTIONS else next_action
        user = request.scope["user"]
        gate = await svc.payment_gate(rma) if rma["status"] == "waiting" else None
        from app.ledger.receivables import new_token

        return render(
            request, "rma/detail.html", status_code=status_code, rma=rma, c=card, message=message, link=link,
            errors=errors or {}, form=form if form is not None else await _form_defaults(rma, action_code) if action_code else {},
            action=svc.ACTIONS.get(action_code), side=side, gate=gate, techs=await svc.bench_users(),
            can_bench=user.has(*svc.BENCH_ROLES), can_desk=user.has("desk"), can_finance=user.has("finance"),
            pay_token=new_token(), board=False, loaners_enabled=_loaners_enabled(request), **extras, **_ctx())

    async def _side(self, request: Request, rma_id: int, side: str, call: Callable[[dict], Awaitable[Any]],
                    flash: str) -> Response:
        raw = await form_data(request)
        try:
            await call(raw)
        except RmaError as exc:
            _refuse(exc)
            return await self._detail(request, rma_id, status_code=exc.status, message=exc.message, errors=exc.errors,
                                      form=raw, side=side)
        return redirect(request, f"/bench/{rma_id}", flash=flash)

    @post("/{rma_id:int}/cost", opt=roles(*svc.COST_ROLES))
    async def cost(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "cost", lambda f: svc.cost_quote(
            actor(request), rma_id, fault=_s(f, "fault"), amount=_s(f, "amount")), _("Fault and cost recorded."))

    @post("/{rma_id:int}/quote", opt=roles(*svc.QUOTE_ROLES))
    async def send_quote(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "quote", lambda f: svc.send_quote(actor(request), rma_id),
                                _("Quote sent to the customer."))

    @post("/{rma_id:int}/decision", opt=roles(*svc.QUOTE_ROLES))
    async def decision(self, request: Request, rma_id: FromPath[int]) -> Response:
        async def call(f: dict) -> None:
            answer = _s(f, "decision")
            if answer not in ("accept", "decline"):
                raise RmaError(_("Please correct the marked fields."), {"decision": _("Choose accepted or declined.")})
            await svc.customer_decision(actor(request), rma_id, accept=answer == "accept", note=_s(f, "decision_note"))

        return await self._side(request, rma_id, "decision", call, _("The customer's answer is recorded."))

    @post("/{rma_id:int}/payment", opt=roles(*svc.PAY_ROLES))
    async def payment(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "payment", lambda f: svc.record_payment(
            actor(request), rma_id, token=_s(f, "token"), amount=_s(f, "amount"), received_on=_s(f, "received_on"),
            method=_s(f, "method"), reference=_s(f, "reference")), _("Payment recorded: the repair may start."))

    @post("/{rma_id:int}/parts", opt=roles(*svc.BENCH_ROLES))
    async def parts(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "parts", lambda f: svc.use_part(
            actor(request), rma_id, part_no=_s(f, "part_no"), qty=_s(f, "qty"), serial=_s(f, "part_serial")),
            _("Part booked from the bench stock."))

    @post("/{rma_id:int}/handover", opt=roles(*svc.BENCH_ROLES))
    async def handover(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "handover", lambda f: svc.hand_over(
            actor(request), rma_id, to_user_id=_s(f, "to_user_id"), note=_s(f, "handover_note")), _("Unit handed over."))

    @post("/{rma_id:int}/consult", opt=roles(*svc.CONSULT_ROLES))
    async def consult(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "consult", lambda f: svc.consult(
            actor(request), rma_id, answer=_s(f, "answer"), note=_s(f, "consult_note")), _("The customer's answer is recorded."))

    @post("/{rma_id:int}/photos", opt=roles(*svc.INTAKE_ROLES))
    async def add_photos(self, request: Request, rma_id: FromPath[int]) -> Response:
        """Unboxing photos (one or several files in the `photo` field)."""
        raw = await form_data(request)
        files = raw.get("photo")
        files = files if isinstance(files, list) else [files]
        files = [f for f in files if f is not None and hasattr(f, "read")]
        try:
            if not files:
                raise RmaError(_("Please correct the marked fields."), {"photo": _("Choose a photo.")})
            for upload in files:
                await svc.add_photo(actor(request), rma_id, upload.filename or "", await upload.read())
        except RmaError as exc:
            _refuse(exc)
            return await self._detail(request, rma_id, status_code=exc.status, message=exc.message, errors=exc.errors,
                                      form={}, side="photos")
        return redirect(request, f"/bench/{rma_id}", flash=_("Photos saved."))

    @get("/photos/{photo_id:int}", name="rma.photo")
    async def photo(self, request: Request, photo_id: FromPath[int]) -> Response:
        """An unboxing photo: a verified JPEG/PNG, served with its fixed type and nosniff."""
        row = await svc.get_photo(photo_id)
        path = svc.photo_dir() / row["stored_name"] if row else None
        if row is None or path is None or not path.exists():
            raise NotFoundException()
        return Response(content=await anyio.Path(path).read_bytes(), media_type=row["content_type"],
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400",
                                 "Content-Security-Policy": "sandbox; default-src 'none'"})

    # ------------------------------------------------------------------ print

    @get("/{rma_id:int}/print/exception", name="rma.print_exception")
    async def print_exception(self, request: Request, rma_id: FromPath[int]) -> Response:
        rma = await svc.get_rma(rma_id)
        extras = await svc.detail_extras(rma_id) if rma else {}
        if rma is None or extras["slip"] is None:
            raise NotFoundException()
        return render(request, "print/rma/exception.html", rma=rma, **extras, **_ctx())

    @get("/{rma_id:int}/print/slip", name="rma.print_slip")
    async def print_slip(self, request: Request, rma_id: FromPath[int]) -> Response:
        rma = await svc.get_rma(rma_id)
        if rma is None:
            raise NotFoundException()
        extras = await svc.detail_extras(rma_id)
        days = (int(rma["burn_in_hours"] or 0) + 23) // 24
        return render(request, "print/rma/slip.html", rma=rma, burn_in_days=days, **extras, **_ctx())

    # ------------------------------------------------------------------ lists

    @get("/replacements", name="rma.replacements", opt=roles("manager", "bench", "qc"))
    async def replacements(self, request: Request, status: FromQuery[str] = "pending") -> Response:
        await svc.sweep_if_due(every_seconds=0)
        status = status if status in svc.REPLACEMENT_STATUSES else "pending"
        rows = await svc.list_replacements(status)
        return render(request, "rma/replacements.html", rows=rows, status=status, errors={}, message="", failed=None,
                      can_decide=request.scope["user"].has(*svc.APPROVE_ROLES), **_ctx())

    @post("/replacements/{replacement_id:int}", opt=roles(*svc.APPROVE_ROLES))
    async def decide(self, request: Request, replacement_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        decision = _s(raw, "decision")
        try:
            if decision not in ("approve", "reject"):
                raise RmaError(_("Please correct the marked fields."), {"decision": _("Approve or reject.")})
            await svc.decide_replacement(actor(request), replacement_id, approve=decision == "approve",
                                         new_serial=_s(raw, "new_serial"), note=_s(raw, "note"))
        except RmaError as exc:
            _refuse(exc)
            rows = await svc.list_replacements("pending")
            return render(request, "rma/replacements.html", status_code=exc.status, rows=rows, status="pending",
                          errors=exc.errors, message=exc.message, failed=replacement_id, form=raw,
                          can_decide=True, **_ctx())
        return redirect(request, "/bench/replacements", flash=_("Replacement application decided."))

    @get("/overdue", name="rma.overdue")
    async def overdue(self, request: Request) -> Response:
        return render(request, "rma/overdue.html", repairs=await svc.overdue_repairs(500),
                      shipments=await svc.overdue_shipments(500), rules=await svc.rules(), **_ctx())

    @get("/burn-in", name="rma.burn_in", opt=roles("manager", "admin", "bench", "qc"))
    async def burn_in(self, request: Request) -> Response:
        return render(request, "rma/burn_in.html", rows=await svc.burn_in_table(), rules=await svc.rules(), errors={},
                      message="", form={}, can_edit=request.scope["user"].has("manager", "admin"), **_ctx())

    @post("/burn-in", opt=roles("manager", "admin"))
    async def set_burn_in(self, request: Request) -> Response:
        raw = await form_data(request)
        try:
            await svc.set_burn_in_hours(actor(request), _s(raw, "model"), _s(raw, "hours"))
        except RmaError as exc:
            _refuse(exc)
            return render(request, "rma/burn_in.html", status_code=exc.status, rows=await svc.burn_in_table(),
                          rules=await svc.rules(), errors=exc.errors, message=exc.message, form=raw, can_edit=True, **_ctx())
        return redirect(request, "/bench/burn-in", flash=_("Burn-in hours saved."))

    # ------------------------------------------------------------------ R-RMA-08 report

    @get("/report", name="rma.report", opt=roles("manager", "qc", "bench", "gm"))
    async def report(self, request: Request, month: FromQuery[str] = "") -> Response:
        month = _month(month)
        data = await svc.monthly_report(month)
        return render(request, "rma/report.html", r=data, chart=svc.report_chart(data), month=month, **_ctx())

    @get("/report.xlsx", name="rma.report_xlsx", opt=roles("manager", "qc", "bench", "gm"))
    async def report_xlsx(self, request: Request, month: FromQuery[str] = "") -> Response:
        from app.core.xlsx import workbook, xlsx_response

        month = _month(month)
        r = await svc.monthly_report(month)
        summary = [
            (_("Received"), r["received"]), (_("Completed"), r["completed"]),
            (_("Repaired"), r["outcomes"].get("repaired", 0)), (_("Replaced"), r["outcomes"].get("replaced", 0)),
            (_("Returned unrepaired"), r["outcomes"].get("unrepaired", 0)),
            (_("Turnaround median (days)"), round(r["median_days"], 2) if r["median_days"] is not None else ""),
            (_("Turnaround 90th percentile (days)"), round(r["p90_days"], 2) if r["p90_days"] is not None else ""),
            (_("Rework rate"), round(r["rework_rate"], 4)),
        ]
        data = workbook([
            (_("Summary"), [_("Item"), _("Value")], summary),
            (_("By region"), [_("Region"), _("Received"), _("In warranty"), _("Repaired"), _("Not repaired")],
             [(x["region"], x["received"], x["in_warranty"], x["repaired"], x["unrepaired"]) for x in r["regions"]]),
            (_("Parts by supplier"), [_("Supplier"), _("Repairs"), _("Parts used"), _("Reworked"), _("Rework rate")],
             [(x["supplier"], int(x["repairs"] or 0), int(x["parts"] or 0), int(x["reworked"] or 0),
               round(x["rework_rate"], 4)) for x in r["suppliers"]]),
        ])
        return xlsx_response(f"rma-report-{month}.xlsx", data)


def _month(text: str) -> str:
    text = (text or "").strip()
    try:
        year, mon = (int(x) for x in text.split("-"))
        dt.date(year, mon, 1)
        return f"{year:04d}-{mon:02d}"
    except (ValueError, TypeError):
        return dt.datetime.now(tz()).strftime("%Y-%m")


# ---------------------------------------------------------------------- nav and home panels

register_nav(NavEntry("bench", _l("Bench"), "/bench", frozenset(svc.READ_ROLES), order=30))


async def _bench_panel(user) -> dict | None:
    board_rows = await svc.overdue_repairs(10, technician_id=user.id)
    from app.core.db import fetch

    mine = await fetch("SELECT id, number, serial, status, received_at FROM rma WHERE technician_id = {} AND status IN "
                       "('waiting', 'repairing', 'repaired', 'burn_in') ORDER BY received_at, id LIMIT 8", user.id)
    for row in mine:
        row["status_label"] = str(svc.STATUSES.get(row["status"], row["status"]))
    return {"mine": mine, "overdue": board_rows}


async def _qc_panel(user) -> dict | None:
    return {"registered": await svc.count_of("registered"), "received": await svc.count_of("received"),
            "burn_in": await svc.count_of("burn_in"), "repaired": await svc.count_of("repaired")}


async def _manager_panel(user) -> dict | None:
    await svc.sweep_if_due()
    rows = await svc.list_replacements("pending", limit=8)
    return {"rows": rows}


async def _desk_panel(user) -> dict | None:
    return {"quotes": await svc.quotes_to_send(5), "late": await svc.overdue_shipments(5),
            "callbacks": await svc.callbacks_due(5), "long": await svc.overdue_repairs(3)}


register_panel(HomePanel("rma-bench", _l("My bench cards"), "rma/_home_bench.html", frozenset({"bench"}), _bench_panel, order=30))
register_panel(HomePanel("rma-qc", _l("Waiting for QC and final test"), "rma/_home_qc.html", frozenset({"qc"}), _qc_panel,
                         order=31))
register_panel(HomePanel("rma-manager", _l("Replacement applications to approve"), "rma/_home_manager.html",
                         frozenset({"manager"}), _manager_panel, order=32))
register_panel(HomePanel("rma-desk", _l("Returns: quotes, ship-backs, callbacks"), "rma/_home_desk.html", frozenset({"desk"}),
                         _desk_panel, order=33))

class RmaAliasController(Controller):
    """/rma/{id} (the path other domains may link to) → the RMA page on the bench."""

    path = "/rma"
    opt = roles(*svc.READ_ROLES)

    @get("/{rma_id:int}", name="rma.alias")
    async def alias(self, request: Request, rma_id: FromPath[int]) -> Response:
        return redirect(request, f"/bench/{rma_id}")


CONTROLLERS = [BenchController, RmaAliasController]
