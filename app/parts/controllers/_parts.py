"""The keeper's pages: search, part and unit pages with movement forms, locations, reorder list, reconciliation."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core import hooks
from app.core.db import fetch
from app.core.errors import DomainError, not_found
from app.core.forms import parse, parse_or_raise
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.web import actor, form_data, redirect, render
from app.core.printing import paper
from app.parts import labels, services
from app.parts.schemas import KeeperForm, LocationForm, MinimumForm, MoveInput, PartEdit, PartInput, UnitMoveForm
from app.parts.services import is_duplicate_submit, is_not_enough_stock
from app.parts.controllers._common import present_moves, MOVE_LABELS, _ctx, _own_form, _booked_once, _labels_page, _location_stock


class PartsController(Controller):
    path = "/parts"
    opt = perm("parts.view")

    @get("/", name="parts.list")
    async def list_parts(self, request: Request, q: FromQuery[str] = "", category: FromQuery[str] = "",
                         after: FromQuery[str | None] = None) -> Response:
        rows, cursor = await services.search_parts(q, category=category, after=after)
        return render(request, "parts/list.html", partial="parts/_rows.html", rows=rows, cursor=cursor, q=q,
                      category=category, **_ctx())

    @get("/go", name="parts.go")
    async def go(self, request: Request, q: FromQuery[str] = "") -> Response:
        """The search box's Enter: an exact part number or scanned serial opens it at once."""
        hit = await services.lookup(q)
        if hit is not None:
            kind, ident = hit
            return redirect(request, f"/parts/{ident}" if kind == "part" else f"/parts/units/{ident}")
        rows, _cursor = await services.search_parts(q, limit=2)
        if len(rows) == 1:
            return redirect(request, f"/parts/{rows[0]['id']}")
        units = await services.find_units(q) if q.strip() else []
        if units:
            return redirect(request, f"/parts/units/{units[0]['id']}")
        return redirect(request, "/parts?q=" + quote(q))

    @get("/new", opt=perm("parts.edit"))
    async def new_part(self, request: Request) -> Response:
        return render(request, "parts/part_form.html", form=PartInput(), errors={}, part=None, **_ctx())

    @post("/new", opt=perm("parts.edit"))
    async def create_part(self, request: Request) -> Response:
        data = parse_or_raise(PartInput, await form_data(request))
        try:
            part_id = await services.create_part(actor(request), data)
        except DomainError as exc:
            _own_form(exc)
            return render(request, "parts/part_form.html", status_code=400, form=data, errors=exc.errors,
                          message=exc.message, part=None, **_ctx())
        return redirect(request, f"/parts/{part_id}", flash=_("Part %(no)s created.", no=data.part_no))

    @get("/{part_id:int}", name="parts.detail")
    async def detail(self, request: Request, part_id: FromPath[int]) -> Response:
        return await self._detail(request, part_id)

    async def _detail(self, request: Request, part_id: int, *, status_code: int = 200, form: MoveInput | None = None,
                      errors: dict | None = None, message: str = "", substitutes: list | None = None,
                      min_errors: dict | None = None) -> Response:
        part = await services.get_part(part_id)
        if part is None:
            raise not_found()
        levels = await services.stock_by_location(part_id)
        moves, cursor = await services.recent_moves(part_id=part_id, limit=50)
        units = []
        if part["serialised"]:
            units = await fetch(
                "SELECT su.id, su.serial, su.status, l.name AS location_name FROM serial_unit su "
                "LEFT JOIN stock_location l ON l.id = su.location_id WHERE su.part_id = {} AND su.location_id IS NOT NULL "
                "ORDER BY l.sort, su.serial LIMIT 60", part_id)
        subs = await services.part_substitutes(part_id)
        if form is None:
            # keeper speed: preselect the location holding most of this part
            best = max(levels, key=lambda level: int(level["on_hand"]), default=None)
            form = MoveInput(kind="issue", from_location=str(best["location_id"]) if best and best["on_hand"] else "")
        return render(
            request, "parts/detail.html", status_code=status_code, part=part, levels=levels,
            on_hand_at={level["location_id"]: int(level["on_hand"]) for level in levels}, moves=present_moves(moves, request.scope.get("user")), cursor=cursor,
            units=units, subs=subs, locations=await services.list_locations(), form=form,
            errors=errors or {}, message=message, offer=substitutes or [], token=services.new_token(),
            min_errors=min_errors or {}, can_move=can(request.scope["user"], "parts.move"),
            open_rmas=await hooks.open_cases("rma", "", 200) if can(request.scope["user"], "parts.move") else [],
            can_edit=can(request.scope["user"], "parts.edit"), total=sum(int(level["on_hand"]) for level in levels), **_ctx())

    @get("/{part_id:int}/moves")
    async def more_moves(self, request: Request, part_id: FromPath[int], before: FromQuery[int | None] = None) -> Response:
        moves, cursor = await services.recent_moves(part_id=part_id, before_id=before, limit=50)
        return render(request, "parts/moves.html", partial="parts/_moves.html", moves=present_moves(moves, request.scope.get("user")), cursor=cursor,
                      part=await services.get_part(part_id), more_url=f"/parts/{part_id}/moves", **_ctx())

    @post("/{part_id:int}/move", opt=perm("parts.move"))
    async def move(self, request: Request, part_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        data, errors = parse(MoveInput, {"kind": "", "qty": "", **raw})
        if data is None:
            return await self._detail(request, part_id, status_code=400, form=MoveInput(), errors=errors,
                                      message=_("Please correct the marked fields."))
        try:
            move = await services.book_form(actor(request), part_id, data)
        except DomainError as exc:
            if is_duplicate_submit(exc):
                return _booked_once(request, f"/parts/{part_id}")
            _own_form(exc)
            offer = (exc.current or {}).get("substitutes", []) if is_not_enough_stock(exc) else None
            return await self._detail(request, part_id, status_code=exc.status, form=data, errors=exc.errors,
                                      message=exc.message, substitutes=offer)
        return redirect(request, f"/parts/{part_id}", flash=_("%(kind)s booked: %(qty)s (movement #%(id)s).",
                                                               kind=MOVE_LABELS[move.kind], qty=move.qty, id=move.id))

    @post("/{part_id:int}/minimum", opt=perm("parts.edit"))
    async def minimum(self, request: Request, part_id: FromPath[int]) -> Response:
        form = parse_or_raise(MinimumForm, await form_data(request))
        try:
            await services.set_minimum(actor(request), part_id, form.location, min_qty=form.min_qty,
                                       installed_qty=form.installed_qty)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, part_id, status_code=400, min_errors=exc.errors, message=exc.message)
        return redirect(request, f"/parts/{part_id}", flash=_("Minimum stock saved."))

    @get("/{part_id:int}/edit", opt=perm("parts.edit"))
    async def edit(self, request: Request, part_id: FromPath[int]) -> Response:
        part = await services.get_part(part_id)
        if part is None:
            raise not_found()
        subs = await services.part_substitutes(part_id)
        from app.core.money import from_fen

        form = PartInput(part_no=part["part_no"], name=part["name"], model=part["model"], category=part["category"],
                         unit=part["unit"], cost=str(from_fen(part["cost_fen"])), supplier=part["supplier"],
                         serialised=bool(part["serialised"]), discontinued=bool(part["discontinued"]), note=part["note"],
                         substitutes=" ".join(s["part_no"] for s in subs))
        return render(request, "parts/part_form.html", form=form, errors={}, part=part, **_ctx())

    @post("/{part_id:int}/edit", opt=perm("parts.edit"))
    async def update(self, request: Request, part_id: FromPath[int]) -> Response:
        data = parse_or_raise(PartEdit, await form_data(request))
        part = await services.get_part(part_id)
        if part is None:
            raise not_found()
        try:
            await services.update_part(actor(request), part_id, data, version=data.version)
        except DomainError as exc:
            _own_form(exc)
            return render(request, "parts/part_form.html", status_code=exc.status, form=data, errors=exc.errors,
                          message=exc.message, part=part, **_ctx())
        return redirect(request, f"/parts/{part_id}", flash=_("Changes saved."))

    @get("/{part_id:int}/barcode.svg")
    async def part_barcode(self, part_id: FromPath[int]) -> Response:
        part = await services.get_part(part_id)
        if part is None:
            raise not_found()
        return Response(labels.code128_svg(part["part_no"]), media_type="image/svg+xml")

    @get("/{part_id:int}/qr.svg")
    async def part_qr(self, part_id: FromPath[int]) -> Response:
        part = await services.get_part(part_id)
        if part is None:
            raise not_found()
        return Response(labels.qr_svg_document(part["part_no"]), media_type="image/svg+xml")

    @get("/{part_id:int}/label")
    async def part_label(self, request: Request, part_id: FromPath[int], copies: FromQuery[int] = 1) -> Response:
        part = await services.get_part(part_id)
        if part is None:
            raise not_found()
        items = [{"code": part["part_no"], "title": part["name"], "sub": part["model"]}]
        return await _labels_page(request, items, copies, _("Part label"))

    # ---- serialised units
    @get("/units/{unit_id:int}", name="parts.unit")
    async def unit(self, request: Request, unit_id: FromPath[int]) -> Response:
        return await self._unit(request, unit_id)

    async def _unit(self, request: Request, unit_id: int, *, status_code: int = 200, errors: dict | None = None,
                    message: str = "", form: dict | None = None) -> Response:
        unit = await services.get_unit(unit_id)
        if unit is None:
            raise not_found()
        moves, cursor = await services.recent_moves(unit_id=unit_id, limit=100)
        return render(request, "parts/unit.html", status_code=status_code, unit=unit, moves=present_moves(moves, request.scope.get("user")),
                      locations=await services.list_locations(), errors=errors or {}, message=message, form=form or {},
                      token=services.new_token(), can_move=can(request.scope["user"], "parts.move"), **_ctx())

    @post("/units/{unit_id:int}/move", opt=perm("parts.move"))
    async def unit_move(self, request: Request, unit_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        unit = await services.get_unit(unit_id)
        if unit is None:
            raise not_found()
        form, errors = parse(UnitMoveForm, raw)
        if form is None:
            message = next(iter(errors.values())) if len(errors) == 1 else _("Please correct the marked fields.")
            return await self._unit(request, unit_id, status_code=400, errors=errors, message=message, form=dict(raw))
        try:
            await services.move_serial_unit(
                actor(request), unit_id, form.to_location, expect_from=unit["location_id"], kind=form.kind,
                document_type=form.document_type, document_id=form.document_id, reason=form.reason, token=form.token)
        except DomainError as exc:
            if is_duplicate_submit(exc):
                return _booked_once(request, f"/parts/units/{unit_id}")
            _own_form(exc)
            return await self._unit(request, unit_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                    form=dict(raw))
        return redirect(request, f"/parts/units/{unit_id}", flash=_("Unit moved."))

    @get("/units/{unit_id:int}/barcode.svg")
    async def unit_barcode(self, unit_id: FromPath[int]) -> Response:
        unit = await services.get_unit(unit_id)
        if unit is None:
            raise not_found()
        return Response(labels.code128_svg(unit["serial"]), media_type="image/svg+xml")

    @get("/units/{unit_id:int}/label")
    async def unit_label(self, request: Request, unit_id: FromPath[int], copies: FromQuery[int] = 1) -> Response:
        unit = await services.get_unit(unit_id)
        if unit is None:
            raise not_found()
        items = [{"code": unit["serial"], "title": unit["part_name"], "sub": unit["part_no"]}]
        return await _labels_page(request, items, copies, _("Unit label"))

    # ---- locations
    @get("/locations", name="parts.locations")
    async def locations(self, request: Request) -> Response:
        return render(request, "parts/locations.html", locations=await services.list_locations(active_only=False),
                      errors={}, form={}, can_edit=can(request.scope["user"], "parts.edit"), **_ctx())

    @post("/locations", opt=perm("parts.edit"))
    async def create_location(self, request: Request) -> Response:
        raw = await form_data(request)
        form = parse_or_raise(LocationForm, raw)
        try:
            loc_id = await services.create_location(actor(request), code=form.code, name=form.name, kind=form.kind,
                                                     keeper=form.keeper, office=form.office)
        except DomainError as exc:
            _own_form(exc)
            return render(request, "parts/locations.html", status_code=400,
                          locations=await services.list_locations(active_only=False), errors=exc.errors, form=raw,
                          message=exc.message, can_edit=True, **_ctx())
        return redirect(request, f"/parts/locations/{loc_id}", flash=_("Location created."))

    @get("/locations/{location_id:int}")
    async def location(self, request: Request, location_id: FromPath[int], after: FromQuery[str | None] = None) -> Response:
        loc = await services.get_location(location_id)
        if loc is None:
            raise not_found()
        rows = await _location_stock(location_id, after)
        cursor = rows[50 - 1]["part_no"] if len(rows) > 50 else None
        moves, _c = await services.recent_moves(location_id=location_id, limit=20)
        keeper = ""
        if loc["keeper_user_id"]:
            users = await fetch("SELECT username, full_name FROM app_user WHERE id = {}", loc["keeper_user_id"])
            keeper = (users[0]["full_name"] or users[0]["username"]) if users else ""
        return render(request, "parts/location.html", loc=loc, rows=rows[:50], cursor=cursor, moves=present_moves(moves, request.scope.get("user")), keeper=keeper,
                      **_ctx())

    @post("/locations/{location_id:int}/keeper", opt=perm("parts.edit"))
    async def set_keeper(self, request: Request, location_id: FromPath[int]) -> Response:
        """R-INV-02: the emergency store has one named keeper (any location may have one)."""
        form = parse_or_raise(KeeperForm, await form_data(request))
        try:
            await services.set_keeper(actor(request), location_id, form.keeper)
        except DomainError as exc:  # the form is a one-field card on the location page: its message as a flash
            _own_form(exc)
            return redirect(request, f"/parts/locations/{location_id}", flash=exc.message, level="danger")
        return redirect(request, f"/parts/locations/{location_id}", flash=_("Keeper saved."))

    @get("/locations/{location_id:int}/sheet")
    async def location_sheet(self, request: Request, location_id: FromPath[int]) -> Response:
        """Printable stock list of a location (pick list for replenishing a technician or an office)."""
        loc = await services.get_location(location_id)
        if loc is None:
            raise not_found()
        rows = await _location_stock(location_id, None, limit=2000)
        return render(request, "print/parts/location_sheet.html", **await paper(), loc=loc, rows=rows, **_ctx())

    # ---- movements: issue notes
    @get("/moves/{move_id:int}/note")
    async def issue_note(self, request: Request, move_id: FromPath[int]) -> Response:
        rows = await fetch("SELECT document_type, document_id, created_at FROM stock_move WHERE id = {}", move_id)
        if not rows:
            raise not_found()
        row = rows[0]
        if row["document_type"]:
            moves, _c = await services.recent_moves(document=(row["document_type"], row["document_id"]), limit=200)
        else:
            moves, _c = await services.recent_moves(part_id=None, limit=1, before_id=move_id + 1)
        return render(request, "print/parts/issue_note.html", **await paper(), moves=list(reversed(moves)), head=row, move_id=move_id, **_ctx())

    # ---- reorder list and reconciliation
    @get("/reorder", opt=perm("parts.move"), name="parts.reorder")
    async def reorder(self, request: Request, location: FromQuery[int | None] = None) -> Response:
        rows = await services.reorder_list(location)
        return render(request, "parts/reorder.html", rows=rows, location=location, token=services.new_token(),
                      locations=await services.list_locations(), **_ctx())

    @post("/reorder/recompute", opt=perm("parts.edit"))
    async def recompute(self, request: Request) -> Response:
        """R-INV-04: minimums from the installed base (3% default) where not set by hand."""
        n = await services.recompute_minimums(actor(request))
        return redirect(request, "/parts/reorder", flash=_("Minimums recomputed from the installed base: %(n)s positions.", n=n))

    @get("/reconcile", opt=perm("parts.move"), name="parts.reconcile")
    async def reconcile(self, request: Request) -> Response:
        report = await services.reconcile()
        return render(request, "parts/reconcile.html", report=report, **_ctx())
