"""Ticket pages (issue #13): lists, intake with the entitlement panel, the ticket with dispatch / pause /
close, the technician's day and visit page (phone), the dispatch board, A4 dispatch and service slips.

Thin handlers: parse the form → one service call → redirect; on a DomainError re-render our own form
with its field messages (status from the error). Everything else goes to the shell's one handler.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core.db import new_form_token, utcnow
from app.core.errors import DomainError, not_found, refused
from app.core.forms import parse, parse_or_raise, path_id
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.settings import setting
from app.core.status import label_of
from app.core.web import actor, form_data, redirect, render
from app.core.printing import paper
from app.tickets import queries, services
from app.tickets.schemas import (CallForm, DispatchForm, FinishForm, IntakeForm, PauseForm, SignForm, StepForm,
                                 VersionForm, labels)
from app.tickets.status import ACTIVE, LABELS, TicketStatus, VisitStatus


def _int(value: str) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


async def sla_view(ticket: dict, now: dt.datetime | None = None, warn: int | None = None) -> dict | None:
    """R-TKT-05 on pages: the earliest open clock, its remaining minutes and colour (paused: frozen)."""
    warn = int(await setting("tickets.warn_minutes")) if warn is None else warn
    return _sla_of(ticket, now or utcnow(), warn)


def _sla_text(minutes: int) -> str:
    if minutes >= 0:
        return _("%(h)s h %(m)s min left", h=minutes // 60, m=minutes % 60)
    return _("%(h)s h %(m)s min over", h=(-minutes) // 60, m=(-minutes) % 60)


def _format_rows(rows: list[dict], now: dt.datetime, warn: int) -> None:
    """Each list row's visible strings once, in Python (issue #13 speed): labels, the SLA badge text and
    colour, the local time — the row template then only interpolates (no macro, filter or gettext per cell)."""
    from app.core.i18n import format_datetime
    from app.tickets.schemas import CHANNELS, CLOCKS as CLOCK_LABELS
    from app.tickets.status import TONES

    status_labels = {k: str(v) for k, v in LABELS.items()}
    channels = {k: str(v) for k, v in CHANNELS.items()}
    clocks = {k: str(v) for k, v in CLOCK_LABELS.items()}
    paused_word, sep = _("paused"), " · "
    for row in rows:
        row["status_label"] = status_labels.get(row["status"], "")
        row["status_tone"] = TONES.get(row["status"], "muted")
        row["channel_label"] = channels.get(row["channel"], "")
        row["created_label"] = format_datetime(services._aware(row["created_at"]), "short")
        sla = _sla_of(row, now, warn)
        row["sla"] = sla
        if sla is not None:
            sla["text"] = clocks.get(sla["clock"], "") + sep + (paused_word + sep if sla["paused"] else "") + \
                _sla_text(sla["minutes"])
            sla["title"] = format_datetime(sla["due"], "short")


def _sla_of(ticket: dict, now: dt.datetime, warn: int) -> dict | None:
    """R-TKT-05 on pages: the earliest open clock, its remaining minutes and colour (paused: frozen)."""
    if ticket["status"] not in ACTIVE:
        return None
    paused = services._aware(ticket.get("paused_at"))
    best = None
    for clock, due_col, met_col in services.CLOCKS:
        due = services._aware(ticket.get(due_col))
        if due is None or ticket.get(met_col):
            continue
        if best is None or due < best[1]:
            best = (clock, due)
    if best is None:
        return None
    seconds = (best[1] - (paused or now)).total_seconds()
    # the same boundary as the list's "breaching" view: a deadline at most `warn` minutes away is in
    tone = "muted" if paused else ("danger" if seconds < 0 else "warn" if seconds <= warn * 60 else "ok")
    return {"clock": best[0], "due": best[1], "minutes": int(seconds // 60), "tone": tone, "paused": paused is not None}


def _ctx(request: Request) -> dict:
    return {**labels(), "now": utcnow()}


class TicketsController(Controller):
    path = "/tickets"
    opt = perm("tickets.view")

    # ------------------------------------------------------------------ lists (issue #13 §7)

    @get("/", name="tickets.list")
    async def index(self, request: Request, view: FromQuery[str] = "", office: FromQuery[str] = "",
                    technician: FromQuery[str] = "", status: FromQuery[str] = "", customer: FromQuery[str] = "",
                    channel: FromQuery[str] = "", q: FromQuery[str] = "", before: FromQuery[str] = "") -> Response:
        user = request.scope["user"]
        all_ = services.reads_all(user)
        view = view if view in queries.VIEWS else ("all" if all_ else "mine")
        if not all_:
            view = "mine"  # a technician lists only their own tickets
        labels_ = labels()
        f = queries.TicketFilter(view=view, office_id=_int(office), technician_id=_int(technician) if all_ else None,
                                 status=status if status in labels_["status_labels"] else "",
                                 customer_id=_int(customer), channel=channel if channel in labels_["channels"] else "",
                                 q=q[:40])
        warn = int(await setting("tickets.warn_minutes"))
        rows, cursor = await queries.list_tickets(f, user_id=user.id, before=_int(before), warn_minutes=warn)
        _format_rows(rows, utcnow(), warn)  # one settings read per page, not per row: queries per page stay constant
        base = {"view": view, "office": office, "technician": technician, "status": f.status, "customer": customer,
                "channel": f.channel, "q": q}
        first_url = "/tickets?" + urlencode({k: v for k, v in base.items() if v})
        return render(request, "tickets/list.html", partial="tickets/_rows.html", rows=rows, cursor=cursor, f=f,
                      first_url=first_url, next_url=first_url + "&before=", first_page=not before,
                      offices=await queries.offices() if all_ else [],
                      techs=await queries.technician_names() if all_ else [], views=queries.VIEWS, **_ctx(request))

    @get("/board", name="tickets.board", opt=perm("tickets.dispatch", "tickets.read_all"))
    async def board(self, request: Request, office: FromQuery[str] = "") -> Response:
        techs = await queries.board(_int(office))
        warn, now = int(await setting("tickets.warn_minutes")), utcnow()
        for tech in techs:
            for row in tech["open"]:
                row["sla"] = await sla_view(row, now, warn)
        office_breaches = await queries.breach_counts(now - dt.timedelta(days=30), by="office_id")  # R-TKT-05 per office
        return render(request, "tickets/board.html", techs=techs, offices=await queries.offices(), office=office,
                      office_breaches=office_breaches, **_ctx(request))

    # ------------------------------------------------------------------ intake (R-TKT-01, 02)

    @get("/new", name="tickets.new", opt=perm("tickets.intake"))
    async def new(self, request: Request, customer_id: FromQuery[str] = "", device_id: FromQuery[str] = "") -> Response:
        form = IntakeForm(customer_id=_int(customer_id), device_id=_int(device_id), token=new_form_token(),
                          nature="hardware", category="other")
        return await self._intake_page(request, form, {}, "")

    async def _intake_page(self, request: Request, form: IntakeForm, errors: dict, message: str,
                           status_code: int = 200) -> Response:
        ent = await services.entitlement(form.customer_id, form.device_id) if form.customer_id else None
        devices = []
        if ent is not None:
            import app.customers.api as customers

            devices = await customers.devices_of_customer(form.customer_id)
            if not form.contact_name and ent["customer"]["contacts"]:
                form.contact_name = ent["customer"]["contacts"][0]["name"]
                form.contact_phone = form.contact_phone or ent["customer"]["contacts"][0]["phone"]
        techs = await queries.technicians(ent["customer"]["office_id"]) if ent is not None else []
        return render(request, "tickets/new.html", status_code=status_code, form=form, errors=errors, message=message,
                      ent=ent, devices=devices, techs=techs, **_ctx(request))

    @get("/entitlement", name="tickets.entitlement", opt=perm("tickets.intake"))
    async def entitlement_panel(self, request: Request, customer_id: FromQuery[str] = "",
                                device_id: FromQuery[str] = "") -> Response:
        """Fragment: the entitlement panel for a customer (and device) as the desk picks them."""
        cid = _int(customer_id)
        ent = await services.entitlement(cid, _int(device_id)) if cid else None
        return render(request, "tickets/_entitlement.html", ent=ent, **_ctx(request))

    @post("/", opt=perm("tickets.intake"))
    async def create(self, request: Request) -> Response:
        raw = await form_data(request)
        form, errors = parse(IntakeForm, raw)
        if errors:
            shown = IntakeForm(customer_id=_int(str(raw.get("customer_id", ""))), device_id=_int(str(raw.get("device_id", ""))),
                               token=new_form_token())
            for name in ("channel", "contact_name", "contact_phone", "requested_service", "current_state", "fault_at",
                         "nature", "category", "fault_code", "location", "impact", "tried", "service_mode"):
                setattr(shown, name, str(raw.get(name, "") or ""))
            shown.technician_id = _int(str(raw.get("technician_id", "")))
            return await self._intake_page(request, shown, errors, _("Please correct the marked fields."), 400)
        try:
            ticket_id = await services.take_call(actor(request), form)
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            recorded = await services.ticket_by_token(form.token) if form.token else None
            if recorded is not None:  # recorded, the immediate dispatch was refused: say why on the ticket
                return await self._detail_page(request, recorded, errors=exc.errors, message=exc.message,
                                               status_code=exc.status)
            form.token = new_form_token()
            return await self._intake_page(request, form, exc.errors, exc.message, exc.status)
        ticket = await queries.get_ticket(ticket_id)
        return redirect(request, f"/tickets/{ticket_id}", flash=_("Ticket %(n)s recorded.", n=ticket["number"]))

    # ------------------------------------------------------------------ the ticket

    async def _ticket(self, request: Request, ticket_id: FromPath[int]) -> dict:
        ticket = await queries.get_ticket(path_id(ticket_id))
        if ticket is None:
            raise not_found()
        if not await services.may_see(request.scope["user"], ticket):
            raise refused()
        return ticket

    @get("/number/{number:str}", name="tickets.by_number")
    async def by_number(self, request: Request, number: FromPath[str]) -> Response:
        """Other domains link a ticket by its number (the bench's RMA page, #13 §6)."""
        ticket = await queries.ticket_by_number(number[:40]) if len(number) <= 40 else None
        if ticket is None:
            raise not_found()
        if not await services.may_see(request.scope["user"], ticket):
            raise refused()
        return redirect(request, f"/tickets/{ticket['id']}")

    @get("/{ticket_id:int}", name="tickets.detail")
    async def detail(self, request: Request, ticket_id: FromPath[int]) -> Response:
        ticket = await self._ticket(request, ticket_id)
        return await self._detail_page(request, ticket)

    async def _detail_page(self, request: Request, ticket: dict, *, errors: dict | None = None, message: str = "",
                           status_code: int = 200, form: dict | None = None) -> Response:
        visits = await queries.visits_for(ticket["id"])
        hits = await services.loaner_hits(ticket)
        repeat = await queries.get_ticket(ticket["repeat_of"]) if ticket["repeat_of"] else None
        loans = []
        try:
            import app.loaners.api as loaners

            loans = await loaners.loans_for_case("ticket", ticket["id"])
        except Exception:  # noqa: BLE001 - the loaner card is a convenience; the page works without it
            loans = []
        import app.parts.api as parts
        import app.rma.api as rma

        dispatching = services.is_dispatcher(request.scope["user"]) and ticket["status"] in (
            "new", "queued", "assigned", "not_done")
        stores = []
        if dispatching:  # R-TKT-04: parts to bring, with what each store (or the technician's own stock) can spare
            office = await queries.office_keys(ticket["office_id"])
            word = _("%(n)s available", n="{n}")
            for store in await parts.dispatch_stores(ticket["assignee_id"], office):
                items = [(f"{store['id']}:{i['part_id']}", f"{i['part_no']} {i['name']} · " + word.format(n=i["available"]))
                         for i in await parts.stock_at(store["id"], limit=80) if int(i["available"]) > 0]
                if items:
                    stores.append({"name": store["name"], "items": items})
        return render(request, "tickets/detail.html", status_code=status_code, t=ticket, visits=visits,
                      reservations=await parts.reservations_for("ticket", ticket["number"]), stores=stores,
                      benches=await rma.rmas_for_ticket(ticket["number"]),
                      pauses=await queries.pauses_for(ticket["id"]), breaches=await queries.breaches_for(ticket["id"]),
                      sla=await sla_view(ticket),
                      techs=await queries.technicians(ticket["office_id"]) if dispatching else [],
                      hits=hits, repeat=repeat, loans=loans, errors=errors or {}, message=message, form=form or {},
                      unsigned=[v for v in visits if v["status"] == VisitStatus.FINISHED],
                      may_request_loaner=can(request.scope["user"], "loaners.request"),
                      may_bench_intake=can(request.scope["user"], "rma.receive"), **_ctx(request))

    async def _ticket_action(self, request: Request, ticket_id: int, fn) -> Response:
        ticket = await self._ticket(request, ticket_id)
        raw = await form_data(request)
        try:
            await fn(raw, ticket)
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            fresh = await queries.get_ticket(ticket["id"])
            return await self._detail_page(request, fresh, errors=exc.errors, message=exc.message,
                                           status_code=exc.status, form={k: v for k, v in raw.items() if k != "_csrf_token"})
        return redirect(request, f"/tickets/{ticket['id']}", flash=_("Saved."))

    @post("/{ticket_id:int}/dispatch", opt=perm("tickets.dispatch"))
    async def dispatch(self, request: Request, ticket_id: FromPath[int]) -> Response:
        async def run(raw, ticket):
            await services.dispatch(actor(request), ticket["id"], parse_or_raise(DispatchForm, raw))
        return await self._ticket_action(request, ticket_id, run)

    @post("/{ticket_id:int}/revisit", opt=perm("tickets.dispatch"))
    async def revisit(self, request: Request, ticket_id: FromPath[int]) -> Response:
        async def run(raw, ticket):
            form = parse_or_raise(DispatchForm, raw)
            if not form.technician_id:
                raise DomainError(_("Choose a technician."), errors={"technician_id": _("Choose a technician.")})
            await services.revisit(actor(request), ticket["id"], form.version, form.technician_id)
        return await self._ticket_action(request, ticket_id, run)

    @post("/{ticket_id:int}/pause", opt=perm("tickets.pause"))
    async def pause(self, request: Request, ticket_id: FromPath[int]) -> Response:
        async def run(raw, ticket):
            await services.pause(actor(request), ticket["id"], parse_or_raise(PauseForm, raw))
        return await self._ticket_action(request, ticket_id, run)

    @post("/{ticket_id:int}/resume", opt=perm("tickets.pause"))
    async def resume(self, request: Request, ticket_id: FromPath[int]) -> Response:
        async def run(raw, ticket):
            await services.resume(actor(request), ticket["id"], parse_or_raise(VersionForm, raw).version)
        return await self._ticket_action(request, ticket_id, run)

    @post("/{ticket_id:int}/close", opt=perm("tickets.close"))
    async def close(self, request: Request, ticket_id: FromPath[int]) -> Response:
        async def run(raw, ticket):
            await services.close(actor(request), ticket["id"], parse_or_raise(VersionForm, raw).version)
        return await self._ticket_action(request, ticket_id, run)

    # ------------------------------------------------------------------ paper forms

    @get("/{ticket_id:int}/print/dispatch", name="tickets.print_dispatch")
    async def print_dispatch(self, request: Request, ticket_id: FromPath[int]) -> Response:
        ticket = await self._ticket(request, ticket_id)
        if not ticket["dispatch_number"]:
            raise not_found(_("This ticket has not been dispatched yet."))
        import app.parts.api as parts

        return render(request, "print/tickets/dispatch.html", **await paper(), t=ticket, visits=await queries.visits_for(ticket["id"]),
                      reservations=await parts.reservations_for("ticket", ticket["number"]),
                      **_ctx(request))

    @get("/visits/{visit_id:int}/print", name="tickets.print_slip")
    async def print_slip(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit = await self._visit(request, visit_id)
        ticket = await queries.get_ticket(visit["ticket_id"])
        visits = await queries.visits_for(ticket["id"])
        visit = next(v for v in visits if v["id"] == visit["id"])
        return render(request, "print/tickets/service_slip.html", **await paper(), t=ticket, v=visit, **_ctx(request))

    # ------------------------------------------------------------------ the technician's day (R-TKT-04, 06)

    @get("/my", name="tickets.my", opt=perm("tickets.visit"))
    async def my(self, request: Request) -> Response:
        user = request.scope["user"]
        visits = await queries.my_day(user.id)
        # each row's strings once in Python (issue #13 speed: the day page under 50 ms p50)
        from app.core.i18n import format_datetime
        from app.tickets.status import VISIT_LABELS

        labels_ = {k: str(v) for k, v in VISIT_LABELS.items()}
        visit_word, eta_word = _("Visit %(n)s", n="{n}"), _("ETA %(t)s", t="{t}")
        for v in visits:
            v["status_label"] = labels_.get(v["status"], "")
            v["visit_label"] = visit_word.format(n=v["seq"])
            v["eta_label"] = eta_word.format(t=format_datetime(services._aware(v["eta_at"]), "short")) if v["eta_at"] else ""
        return render(request, "tickets/my_day.html", visits=visits, **_ctx(request))

    async def _visit(self, request: Request, visit_id: FromPath[int]) -> dict:
        visit = await queries.get_visit(path_id(visit_id))
        if visit is None:
            raise not_found()
        user = request.scope["user"]
        if visit["technician_id"] != user.id and not services.reads_all(user):
            raise refused(_("This visit is assigned to somebody else."))
        return visit

    @get("/visits/{visit_id:int}", name="tickets.visit")
    async def visit(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit = await self._visit(request, visit_id)
        return await self._visit_page(request, visit)

    async def _visit_page(self, request: Request, visit: dict, *, errors: dict | None = None, message: str = "",
                          status_code: int = 200, form: dict | None = None) -> Response:
        import app.ledger.api as ledger
        import app.parts.api as parts

        ticket = await queries.get_ticket(visit["ticket_id"])
        visits = await queries.visits_for(ticket["id"])
        visit = next(v for v in visits if v["id"] == visit["id"])
        next_slip = await ledger.next_number_for(visit["technician_id"])
        loc = await parts.technician_location(visit["technician_id"], create=False)
        stock = await parts.stock_at(loc) if loc else []
        return render(request, "tickets/visit.html", status_code=status_code, t=ticket, v=visit, next_slip=next_slip,
                      stock=stock, errors=errors or {}, message=message, form=form or {}, token=new_form_token(),
                      **_ctx(request))

    async def _visit_action(self, request: Request, visit_id: int, fn, *, back: str | None = None) -> Response:
        visit = await self._visit(request, visit_id)
        raw = await form_data(request)
        try:
            await fn(raw, visit)
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            fresh = await queries.get_visit(visit["id"])
            kept = {k: v for k, v in raw.items() if k not in ("_csrf_token", "signature")}
            return await self._visit_page(request, fresh, errors=exc.errors, message=exc.message,
                                          status_code=exc.status, form=kept)
        return redirect(request, back or f"/tickets/visits/{visit['id']}", flash=_("Saved."))

    @post("/visits/{visit_id:int}/call", opt=perm("tickets.visit", "tickets.dispatch"))
    async def call(self, request: Request, visit_id: FromPath[int]) -> Response:
        async def run(raw, visit):
            await services.record_call(actor(request), visit["id"], parse_or_raise(CallForm, raw))
        return await self._visit_action(request, visit_id, run)

    @post("/visits/{visit_id:int}/depart", opt=perm("tickets.visit", "tickets.dispatch"))
    async def depart(self, request: Request, visit_id: FromPath[int]) -> Response:
        async def run(raw, visit):
            await services.depart(actor(request), visit["id"], parse_or_raise(StepForm, raw))
        return await self._visit_action(request, visit_id, run)

    @post("/visits/{visit_id:int}/arrive", opt=perm("tickets.visit", "tickets.dispatch"))
    async def arrive(self, request: Request, visit_id: FromPath[int]) -> Response:
        async def run(raw, visit):
            await services.arrive(actor(request), visit["id"], parse_or_raise(StepForm, raw))
        return await self._visit_action(request, visit_id, run)

    @post("/visits/{visit_id:int}/finish", opt=perm("tickets.visit", "tickets.dispatch"))
    async def finish(self, request: Request, visit_id: FromPath[int]) -> Response:
        async def run(raw, visit):
            await services.finish(actor(request), visit["id"], parse_or_raise(FinishForm, raw))
        return await self._visit_action(request, visit_id, run)

    @post("/visits/{visit_id:int}/sign", opt=perm("tickets.visit", "tickets.dispatch"))
    async def sign(self, request: Request, visit_id: FromPath[int]) -> Response:
        async def run(raw, visit):
            await services.sign(actor(request), visit["id"], parse_or_raise(SignForm, raw))
        return await self._visit_action(request, visit_id, run)

    @get("/visits/{visit_id:int}/signature", name="tickets.signature")
    async def signature(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit = await self._visit(request, visit_id)
        path = services.signature_dir() / visit["signature_file"] if visit["signature_file"] else None
        if path is None or not path.exists():
            raise not_found()
        return Response(content=await anyio.Path(path).read_bytes(), media_type="image/png",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})


CONTROLLERS = [TicketsController]
__all__ = ["CONTROLLERS", "sla_view", "LABELS", "TicketStatus", "label_of"]
