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
from litestar.params import FromPath, FromQuery
from markupsafe import Markup

from app.core.db import new_form_token
from app.core.dates import today
from app.core.errors import DomainError, Stale, fix, not_found
from app.core.forms import FieldError, Int, parse_or_raise, strip_control
from app.core.i18n import _, current_locale, tz
from app.core.permissions import can, perm, require
from app.core.hooks import close_blockers
from app.core.sections import render_sections, sections_for
from app.core.web import actor, form_data, is_htmx, redirect, render, render_string
from app.core.printing import paper
import app.customers.api as customers
from app.rma import board_cards, schemas
from app.rma import services as svc


def _ctx(**extra: Any) -> dict:
    return {"statuses": svc.STATUSES, "actions": svc.ACTIONS, "appearance": svc.APPEARANCE, "outcomes": svc.OUTCOMES,
            "quote_statuses": svc.QUOTE_STATUSES, "answers": svc.ANSWERS, "open_statuses": svc.OPEN_STATUSES,
            "replacement_statuses": svc.REPLACEMENT_STATUSES, "today": today(), **extra}


_LABELS: dict[tuple, dict] = {}


def _labels(user) -> dict:
    """Card labels translated once per language and role set (a board renders hundreds of cards); a handful of
    entries per process, nothing that changes without a restart (messages and permissions come from the code)."""
    key = (current_locale(), frozenset(getattr(user, "roles", None) or ()))
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = _make_labels(user)
    return labels


def _make_labels(user) -> dict:
    return {
        "oow": _("OOW"), "oow_title": _("Out of warranty"), "rework": _("rework"), "fault": _("Fault"),
        "technician": _("Technician"), "age_title": _("Age since received"), "d": _("d"),
        "window": _("3-day repair window"), "window_over": _("3-day window over by"), "left": _("left"),
        "burn_in_left": _("burn-in left"), "burn_in_done": _("burn-in done"), "ship_overdue": _("ship overdue"),
        "replacement_applied": _("replacement applied"), "waiting_customer": _("waiting for the customer since %(at)s", at="{at}"),
        "paused_title": _("The repair clock is paused while the customer decides and pays."), "proposed": _("replacement proposed"),
        "proposed_title": _("Same fault repaired twice: a replacement is proposed"), "open": _("Open"),
        "allowed": {code for code, a in svc.ACTIONS.items() if user is not None and can(user, a.perm)},
        "action_labels": {code: str(a.label) for code, a in svc.ACTIONS.items()},
    }


def _cards_html(request: Request, cards: list, labels: dict, tech: int | None = None,
                open_id: int | None = None) -> list[Markup]:
    """Cards as HTML through the per-card cache (app/rma/board_cards.py); the macro renders the misses."""
    def source():
        return request.app.template_engine.get_template("rma/_cards.html").make_module(
            {"actions": svc.ACTIONS, "quote_statuses": svc.QUOTE_STATUSES, "L": labels, "user": request.scope["user"]})
    return board_cards.render_cards(source, cards, labels=labels, tech=tech, open_id=open_id)


def _opt_id(value: Any) -> int | None:
    """A filter id from the query or a hidden field: junk reads as "no filter" (as before)."""
    try:
        return Int(min=1).parse(value)
    except FieldError:
        return None


# One entry per transition: the form schema, and the service call with the parsed form.
Step = tuple[type, Callable[[Any, int, int, Any], Awaitable[dict]]]
STEPS: dict[str, Step] = {
    "unbox": (schemas.Unbox, lambda a, i, v, f: svc.unbox(
        a, i, v, appearance=f.appearance, accessories=f.accessories, photos=f.photos, damage_call=f.damage_call,
        damage_cause=f.damage_cause)),
    "confirm": (schemas.Confirm, lambda a, i, v, f: svc.confirm(a, i, v, note=f.note, contact_phone=f.contact_phone,
                                                                 address=f.address)),
    "qc": (schemas.Qc, lambda a, i, v, f: svc.qc(a, i, v, fault_code=f.fault_code, fault_confirmed=f.fault_confirmed,
                                                   test_note=f.test_note, unresolvable=f.unresolvable)),
    "start": (schemas.NoteOnly, lambda a, i, v, f: svc.start_repair(a, i, v)),
    "ship-unrepaired": (schemas.NoteOnly, lambda a, i, v, f: svc.ship_unrepaired(a, i, v, note=f.note)),
    "repaired": (schemas.Repaired, lambda a, i, v, f: svc.repaired(a, i, v, fault_found=f.fault_found, part_no=f.part_no,
                                                                     qty=f.qty, serial=f.part_serial)),
    "burn-in": (schemas.BurnIn, lambda a, i, v, f: svc.start_burn_in(a, i, v, hours=f.hours)),
    "final-test": (schemas.FinalTest, lambda a, i, v, f: svc.final_test(a, i, v, result=f.result, note=f.note)),
    "ship": (schemas.Ship, lambda a, i, v, f: svc.ship(a, i, v, carrier=f.carrier, tracking_no=f.tracking_no,
                                                         customer_told_on=f.customer_told_on)),
    "deliver": (schemas.Deliver, lambda a, i, v, f: svc.deliver(a, i, v, delivered_on=f.delivered_on)),
    "callback": (schemas.NoteOnly, lambda a, i, v, f: svc.callback(a, i, v, note=f.note)),
    "close": (schemas.NoteOnly, lambda a, i, v, f: svc.close(a, i, v, note=f.note)),
}


async def _advance(who: Any, rma_id: int, action: str, raw: dict) -> dict:
    """Check the permission first (403 before any field message, as before), then the form, then the move."""
    schema, call = STEPS[action]
    require(who, svc.ACTIONS[action].perm)
    version = parse_or_raise(schemas.Moved, raw).version
    return await call(who, rma_id, version, parse_or_raise(schema, raw))


async def _form_defaults(rma: dict, action: str) -> dict:
    today_text = today().isoformat()
    if action == "burn-in":
        return {"hours": str(await svc.burn_in_hours_for(rma["model"]))}
    if action in ("ship",):
        return {"customer_told_on": today_text}
    if action == "deliver":
        return {"delivered_on": today_text}
    if action == "final-test":
        return {"result": "pass"}
    if action == "unbox":
        return {"appearance": ""}
    return {}


class BenchController(Controller):
    path = "/bench"
    opt = perm("rma.view")

    # ------------------------------------------------------------------ board

    @get("/", name="rma.board")
    async def board(self, request: Request, tech: FromQuery[str] = "", open: FromQuery[str] = "") -> Response:
        await svc.sweep_if_due()
        tech_id, open_id = _opt_id(tech), _opt_id(open)
        data = await svc.board(technician_id=tech_id)
        skip = {}
        if open_id and not any(c.row["id"] == open_id for cards in data["columns"].values() for c in cards):
            opened = await svc.card(open_id)  # scanned, but past its column's first cards: shown on top
            if opened is not None and opened.row["status"] in data["columns"]:
                data["columns"][opened.row["status"]].insert(0, opened)
                skip[opened.row["status"]] = open_id  # the "more" slices leave it out (no second copy)
        labels = _labels(request.scope["user"])
        html = {status: Markup("".join(_cards_html(request, cards, labels, tech_id, open_id)))
                for status, cards in data["columns"].items()}
        return render(request, "rma/board.html", data=data, html=html, skip=skip, tech=tech_id, techs=await svc.bench_users(),
                      open_id=open_id, L=labels, **_ctx())

    @get("/column/{status:str}", name="rma.column")
    async def column(self, request: Request, status: FromPath[str], after: FromQuery[str] = "",
                     tech: FromQuery[str] = "", skip: FromQuery[str] = "") -> Response:
        """The board's "more" button: the next slice of one stage after the card `after` (keyset on the column's
        sort key), then the next button if cards remain; the live region says how many were loaded."""
        if status not in svc.OPEN_STATUSES:
            raise not_found()
        tech_id, after_id = _opt_id(tech), _opt_id(after)
        per_column = await svc.cards_per_column()
        skip_id = _opt_id(skip)
        cards, left = await svc.column(status, technician_id=tech_id, per_column=per_column, after=after_id, skip=skip_id)
        labels = _labels(request.scope["user"])
        return render(request, "rma/_slice.html", status=status, cards=_cards_html(request, cards, labels, tech_id),
                      last_id=cards[-1].row["id"] if cards else after_id, left=left - len(cards), loaded=len(cards),
                      per_column=per_column, tech=tech_id, skip=skip_id, **_ctx())

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
            raise not_found()
        return render(request, "rma/_card.html", c=card, open_form=None, L=_labels(request.scope["user"]), **_ctx())

    @get("/{rma_id:int}/form/{action:str}", name="rma.card_form")
    async def card_form(self, request: Request, rma_id: FromPath[int], action: FromPath[str], tech: FromQuery[str] = "") -> Response:
        """The inputs a transition needs, asked inline in the card (HTMX)."""
        rma = await svc.get_rma(rma_id)
        if rma is None or action not in svc.ACTIONS:
            raise not_found()
        return render(request, "rma/_card_form.html", rma=rma, action=svc.ACTIONS[action], form=await _form_defaults(rma, action),
                      errors={}, message="", board=True, techs=[], tech=_opt_id(tech), **_ctx())

    # ------------------------------------------------------------------ transitions

    @post("/{rma_id:int}/{action:str}", opt=perm("rma.bench", "rma.ship", "rma.callback", "rma.close"))
    async def transition(self, request: Request, rma_id: FromPath[int], action: FromPath[str]) -> Response:
        if action not in STEPS:
            raise not_found()
        raw = await form_data(request)
        from_board = str(raw.get("from_board") or "") == "1" and is_htmx(request)
        tech_id = _opt_id(raw.get("tech"))
        before = await svc.get_rma(rma_id)
        if before is None:
            raise not_found()
        try:
            moved = await _advance(actor(request), rma_id, action, raw)
        except DomainError as exc:  # re-render this form (board card or detail page); 403/404: the core page
            if exc.status in (403, 404):
                raise
            if from_board:
                return await self._card_error(request, rma_id, action, raw, exc, tech_id)
            return await self._detail(request, rma_id, status_code=exc.status, message=exc.message, errors=exc.errors,
                                      form=raw, failed_action=action, link=exc.link)
        label = str(svc.STATUSES[moved["status"]])
        if from_board:
            return await self._moved(request, rma_id, before["status"], moved["status"], tech_id,
                                     _("%(number)s → %(stage)s", number=moved["number"], stage=label))
        return redirect(request, f"/bench/{rma_id}", flash=_("%(number)s → %(stage)s", number=moved["number"], stage=label))

    async def _card_error(self, request: Request, rma_id: int, action: str, raw: dict, exc: DomainError,
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

    async def _moved(self, request: Request, rma_id: int, from_status: str, to_status: str, tech_id: int | None, note: str) -> Response:
        """The moved card leaves its column; the destination column and both counts swap in out of band."""
        cards, count_to = await svc.column(to_status, technician_id=tech_id)
        count_from = await svc.count_of(from_status, tech_id) if from_status in svc.OPEN_STATUSES else 0
        labels = _labels(request.scope["user"])
        body = render_string(request, "rma/_moved.html", rma_id=rma_id, from_status=from_status, to_status=to_status,
                             cards=_cards_html(request, cards, labels, tech_id), last_id=cards[-1].row["id"] if cards else None,
                             count_from=count_from, count_to=count_to, note=note, tech=tech_id, open_form=None,
                             L=labels, **_ctx())
        return Response(content=body, media_type="text/html", status_code=200)

    # ------------------------------------------------------------------ intake

    @get("/receive", name="rma.receive", opt=perm("rma.receive"))
    async def receive_form(self, request: Request, serial: FromQuery[str] = "", customer_id: FromQuery[str] = "",
                           ticket: FromQuery[str] = "", fault: FromQuery[str] = "") -> Response:
        # a service ticket's "needs return repair" opens this prefilled (#13): its number is kept on the RMA
        form = svc.IntakeInput(serial=serial.strip(), ticket_number=strip_control(ticket.strip().upper()[:40]),
                               fault_reported=strip_control(fault.strip()[:1000]))
        if customer_id.isdigit() and len(customer_id) <= 9:  # #12.10: back from the customer picker
            customer = await customers.get_customer(int(customer_id))
            if customer is not None:
                form.customer_id, form.customer_name = str(customer["id"]), customer["name"]
        return await self._receive_page(request, form, {}, "")

    async def _receive_page(self, request: Request, form: svc.IntakeInput, errors: dict, message: str,
                            status_code: int = 200) -> Response:
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

    @post("/receive", opt=perm("rma.receive"))
    async def receive(self, request: Request) -> Response:
        raw = await form_data(request)
        uploads = raw.pop("photo", None)
        uploads = uploads if isinstance(uploads, list) else [uploads]
        photos = [(u.filename or "", await u.read()) for u in uploads if u is not None and hasattr(u, "read")]
        photos = [(name, data) for name, data in photos if name or data]  # an empty file input sends an empty part
        fields = svc.IntakeInput.__dataclass_fields__
        # what the user typed, to show again if refused (control characters dropped: they may not reach a query)
        form = svc.IntakeInput(**{k: strip_control(v) for k, v in raw.items() if k in fields and isinstance(v, str)})
        try:
            form = svc.IntakeInput(**vars(parse_or_raise(schemas.Intake, raw)))
            rma_id, number = await svc.receive(actor(request), form, photos)
        except DomainError as exc:  # re-render the intake form; 403/404: the core page
            if exc.status in (403, 404):
                raise
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
            raise not_found()
        extras = await svc.detail_extras(rma_id)
        quote = extras["quote"]
        card = svc.make_card({**rma, "quote_status": quote["status"] if quote else None,
                              "receivable_open": quote["receivable_open"] if quote else None,
                              "quote_quoted_at": quote["quoted_at"] if quote else None,
                              "quote_paid_at": quote["paid_at"] if quote else None}, svc.utcnow(), await svc.rules())
        next_action = svc.NEXT_ACTION.get(rma["status"], "")
        action_code = failed_action if failed_action in svc.ACTIONS else next_action
        user = request.scope["user"]
        gate = await svc.payment_gate(rma) if rma["status"] == "waiting" else None
        if rma["status"] == "called_back":  # a loaner still out holds the case open: say so instead of a failing button
            blockers = await close_blockers("rma", rma_id)
            if blockers:
                card.blocked, link = blockers[0].message, link or blockers[0].url or ""
        cards = await render_sections(sections_for("rma"), rma_id, user)  # other domains' cards (the loaner offer)
        rules = await svc.rules()
        replacement_conditions = svc.replacement_conditions(rma, svc.utcnow(), rules["repair_days"],
                                                            applied=extras["replacement"] is not None)
        return render(
            request, "rma/detail.html", status_code=status_code, rma=rma, c=card, message=message, link=link,
            errors=errors or {}, form=form if form is not None else await _form_defaults(rma, action_code) if action_code else {},
            action=svc.ACTIONS.get(action_code), side=side, gate=gate, techs=await svc.bench_users(),
            can_bench=can(user, "rma.bench"), can_desk=can(user, "rma.quote"), can_finance=can(user, "rma.pay"),
            pay_token=new_form_token(), board=False, cards=cards, replacement_conditions=replacement_conditions,
            may_apply_replacement=all(ok for ok, _text in replacement_conditions), **extras, **_ctx())

    async def _side(self, request: Request, rma_id: int, side: str, schema: type, call: Callable[[Any], Awaitable[Any]],
                    flash: str) -> Response:
        raw = await form_data(request)
        try:
            await call(parse_or_raise(schema, raw))
        except DomainError as exc:  # re-render the detail page with this side form's messages; 403/404: the core page
            if exc.status in (403, 404):
                raise
            return await self._detail(request, rma_id, status_code=exc.status, message=exc.message, errors=exc.errors,
                                      form=raw, side=side)
        return redirect(request, f"/bench/{rma_id}", flash=flash)

    @post("/{rma_id:int}/cost", opt=perm("rma.bench"))
    async def cost(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "cost", schemas.Cost, lambda f: svc.cost_quote(
            actor(request), rma_id, fault=f.fault, amount=f.amount), _("Fault and cost recorded."))

    @post("/{rma_id:int}/quote", opt=perm("rma.quote"))
    async def send_quote(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "quote", schemas.NoteOnly, lambda f: svc.send_quote(actor(request), rma_id),
                                _("Quote sent to the customer."))

    @post("/{rma_id:int}/decision", opt=perm("rma.quote"))
    async def decision(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "decision", schemas.Decision, lambda f: svc.customer_decision(
            actor(request), rma_id, accept=f.decision == "accept", note=f.decision_note),
            _("The customer's answer is recorded."))

    @post("/{rma_id:int}/payment", opt=perm("rma.pay"))
    async def payment(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "payment", schemas.Payment, lambda f: svc.record_payment(
            actor(request), rma_id, token=f.token, amount=f.amount, received_on=f.received_on, method=f.method,
            reference=f.reference), _("Payment recorded: the repair may start."))

    @post("/{rma_id:int}/parts", opt=perm("rma.bench"))
    async def parts(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "parts", schemas.PartUse, lambda f: svc.use_part(
            actor(request), rma_id, part_no=f.part_no, qty=f.qty, serial=f.part_serial),
            _("Part recorded as used on this repair."))

    @post("/{rma_id:int}/parts/return", opt=perm("rma.bench"))
    async def parts_return(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "parts-return", schemas.PartUse, lambda f: svc.return_part(
            actor(request), rma_id, part_no=f.part_no, qty=f.qty, serial=f.part_serial),
            _("Part returned to the store."))

    @post("/{rma_id:int}/replacement", opt=perm("rma.bench"))
    async def apply_replacement(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "replacement", schemas.ReplacementApply, lambda f: svc.apply_replacement(
            actor(request), rma_id, note=f.replacement_note), _("Replacement applied for: the manager decides it."))

    @post("/{rma_id:int}/handover", opt=perm("rma.bench"))
    async def handover(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "handover", schemas.Handover, lambda f: svc.hand_over(
            actor(request), rma_id, to_user_id=f.to_user_id, note=f.handover_note), _("Unit handed over."))

    @post("/{rma_id:int}/consult", opt=perm("rma.consult"))
    async def consult(self, request: Request, rma_id: FromPath[int]) -> Response:
        return await self._side(request, rma_id, "consult", schemas.Consult, lambda f: svc.consult(
            actor(request), rma_id, answer=f.answer, note=f.consult_note), _("The customer's answer is recorded."))

    @post("/{rma_id:int}/photos", opt=perm("rma.receive"))
    async def add_photos(self, request: Request, rma_id: FromPath[int]) -> Response:
        """Unboxing photos (one or several files in the `photo` field)."""
        raw = await form_data(request)
        files = raw.get("photo")
        files = files if isinstance(files, list) else [files]
        files = [f for f in files if f is not None and hasattr(f, "read")]
        try:
            if not files:
                raise fix(photo=_("Choose a photo."))
            for upload in files:
                await svc.add_photo(actor(request), rma_id, upload.filename or "", await upload.read())
        except DomainError as exc:  # re-render the detail page with the photo field's message; 403/404: the core page
            if exc.status in (403, 404):
                raise
            return await self._detail(request, rma_id, status_code=exc.status, message=exc.message, errors=exc.errors,
                                      form={}, side="photos")
        return redirect(request, f"/bench/{rma_id}", flash=_("Photos saved."))

    @get("/photos/{photo_id:int}", name="rma.photo")
    async def photo(self, request: Request, photo_id: FromPath[int]) -> Response:
        """An unboxing photo: a verified JPEG/PNG, served with its fixed type and nosniff."""
        row = await svc.get_photo(photo_id)
        path = svc.photo_dir() / row["stored_name"] if row else None
        if row is None or path is None or not path.exists():
            raise not_found()
        return Response(content=await anyio.Path(path).read_bytes(), media_type=row["content_type"],
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400",
                                 "Content-Security-Policy": "sandbox; default-src 'none'"})

    # ------------------------------------------------------------------ print

    @get("/{rma_id:int}/print/exception", name="rma.print_exception")
    async def print_exception(self, request: Request, rma_id: FromPath[int]) -> Response:
        rma = await svc.get_rma(rma_id)
        extras = await svc.detail_extras(rma_id) if rma else {}
        if rma is None or extras["slip"] is None:
            raise not_found()
        return render(request, "print/rma/exception.html", **await paper(), rma=rma, **extras, **_ctx())

    @get("/{rma_id:int}/print/quote", name="rma.print_quote")
    async def print_quote(self, request: Request, rma_id: FromPath[int]) -> Response:
        """R-RMA-04: the out-of-warranty repair quote for the customer (A4)."""
        rma = await svc.get_rma(rma_id)
        quote = await svc.get_quote(rma_id) if rma else None
        if rma is None or quote is None:
            raise not_found()
        return render(request, "print/rma/quote.html", **await paper(), rma=rma, quote=quote, **_ctx())

    @get("/{rma_id:int}/print/slip", name="rma.print_slip")
    async def print_slip(self, request: Request, rma_id: FromPath[int]) -> Response:
        rma = await svc.get_rma(rma_id)
        if rma is None:
            raise not_found()
        extras = await svc.detail_extras(rma_id)
        days = (int(rma["burn_in_hours"] or 0) + 23) // 24
        return render(request, "print/rma/slip.html", **await paper(), rma=rma, burn_in_days=days, **extras, **_ctx())

    # ------------------------------------------------------------------ lists

    @get("/replacements", name="rma.replacements", opt=perm("rma.replacements"))
    async def replacements(self, request: Request, status: FromQuery[str] = "pending") -> Response:
        await svc.sweep_if_due(every_seconds=0)
        status = status if status in svc.REPLACEMENT_STATUSES else "pending"
        rows = await svc.list_replacements(status)
        return render(request, "rma/replacements.html", rows=rows, status=status, errors={}, message="", failed=None,
                      can_decide=can(request.scope["user"], "rma.approve"), **_ctx())

    @post("/replacements/{replacement_id:int}", opt=perm("rma.approve"))
    async def decide(self, request: Request, replacement_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        try:
            form = parse_or_raise(schemas.ReplacementDecision, raw)
            await svc.decide_replacement(actor(request), replacement_id, approve=form.decision == "approve",
                                         new_serial=form.new_serial, note=form.note)
        except DomainError as exc:  # re-render the list with this application's messages; 403/404: the core page
            if exc.status in (403, 404):
                raise
            rows = await svc.list_replacements("pending")
            return render(request, "rma/replacements.html", status_code=exc.status, rows=rows, status="pending",
                          errors=exc.errors, message=exc.message, failed=replacement_id, form=raw,
                          can_decide=True, **_ctx())
        return redirect(request, "/bench/replacements", flash=_("Replacement application decided."))

    @get("/overdue", name="rma.overdue")
    async def overdue(self, request: Request) -> Response:
        return render(request, "rma/overdue.html", repairs=await svc.overdue_repairs(500),
                      shipments=await svc.overdue_shipments(500), rules=await svc.rules(), **_ctx())

    @get("/burn-in", name="rma.burn_in", opt=perm("rma.burn_in.view"))
    async def burn_in(self, request: Request) -> Response:
        return render(request, "rma/burn_in.html", rows=await svc.burn_in_table(), rules=await svc.rules(), errors={},
                      message="", form={}, can_edit=can(request.scope["user"], "rma.burn_in.edit"), **_ctx())

    @post("/burn-in", opt=perm("rma.burn_in.edit"))
    async def set_burn_in(self, request: Request) -> Response:
        raw = await form_data(request)
        try:
            form = parse_or_raise(schemas.BurnInHours, raw)
            await svc.set_burn_in_hours(actor(request), form.model, form.hours)
        except DomainError as exc:  # re-render the table with the form's messages; 403/404: the core page
            if exc.status in (403, 404):
                raise
            return render(request, "rma/burn_in.html", status_code=exc.status, rows=await svc.burn_in_table(),
                          rules=await svc.rules(), errors=exc.errors, message=exc.message, form=raw, can_edit=True, **_ctx())
        return redirect(request, "/bench/burn-in", flash=_("Burn-in hours saved."))

    # ------------------------------------------------------------------ R-RMA-08 report

    @get("/report", name="rma.report", opt=perm("rma.report"))
    async def report(self, request: Request, month: FromQuery[str] = "") -> Response:
        month = _month(month)
        data = await svc.monthly_report(month)
        return render(request, "rma/report.html", r=data, chart=svc.report_chart(data), month=month, **_ctx())

    @get("/report.xlsx", name="rma.report_xlsx", opt=perm("rma.report"))
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


class RmaAliasController(Controller):
    """/rma/{id} (the path other domains may link to) → the RMA page on the bench."""

    path = "/rma"
    opt = perm("rma.view")

    @get("/{rma_id:int}", name="rma.alias")
    async def alias(self, request: Request, rma_id: FromPath[int]) -> Response:
        return redirect(request, f"/bench/{rma_id}")


CONTROLLERS = [BenchController, RmaAliasController]
