"""Purchase requests (R-INV-04), the emergency store (R-INV-05) and stocktakes (R-INV-06)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core.db import fetch
from app.core.errors import DomainError, not_found
from app.core.forms import parse_or_raise
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.web import actor, form_data, redirect, render
from app.core.printing import paper
from app.parts import emergency, purchasing, services, stocktake
from app.parts.schemas import (CountsForm, DecisionForm, EmergencyRequestForm, FinishForm, IssueForm,
                               PurchaseRequestForm, ReorderRequestForm, ScanForm, StocktakeStartForm, TokenForm)
from app.parts.services import is_duplicate_submit
from app.parts.controllers._common import present_moves, CATEGORY_LABELS, _ctx, _own_form, _booked_once, _location_stock, _lines, _keyed


# ---------------------------------------------------------------------------- purchasing (R-INV-04)


class PurchaseController(Controller):
    path = "/parts/purchases"
    opt = perm("parts.purchases")

    @get("/", name="parts.purchases")
    async def list_requests(self, request: Request, status: FromQuery[str] = "open",
                            before: FromQuery[int | None] = None) -> Response:
        rows, cursor = await purchasing.list_requests(status, before)
        return render(request, "parts/purchases.html", rows=rows, cursor=cursor, status=status,
                      status_label=purchasing.status_label, **_ctx())

    @get("/new", opt=perm("parts.purchase.request"))
    async def new(self, request: Request, part: FromQuery[str] = "") -> Response:
        return render(request, "parts/purchase_form.html", lines=[(part, "")] + [("", "")] * 5, errors={}, form={},
                      locations=await services.list_locations(), token=services.new_token(), **_ctx())

    @post("/new", opt=perm("parts.purchase.request"))
    async def create(self, request: Request) -> Response:
        raw = await form_data(request)
        form = parse_or_raise(PurchaseRequestForm, raw)
        lines = _lines(raw)
        try:
            pr_id = await purchasing.create_request(actor(request), location=form.location, lines=lines,
                                                    supplier=form.supplier, note=form.note, token=form.token)
        except DomainError as exc:
            if is_duplicate_submit(exc):
                return _booked_once(request, "/parts/purchases")
            _own_form(exc)
            return render(request, "parts/purchase_form.html", status_code=400, lines=lines, errors=exc.errors, form=raw,
                          message=exc.message, locations=await services.list_locations(), token=services.new_token(),
                          **_ctx())
        return redirect(request, f"/parts/purchases/{pr_id}", flash=_("Purchase request created."))

    @post("/from-reorder", opt=perm("parts.purchase.request"))
    async def from_reorder(self, request: Request) -> Response:
        form = parse_or_raise(ReorderRequestForm, await form_data(request))
        try:
            pr_id = await purchasing.request_from_reorder_list(actor(request), form.location or 0, token=form.token)
        except DomainError as exc:  # the button sits on the reorder list: back there with the reason
            if is_duplicate_submit(exc):
                return _booked_once(request, "/parts/purchases")
            _own_form(exc)
            return redirect(request, "/parts/reorder", flash=exc.message, level="danger")
        return redirect(request, f"/parts/purchases/{pr_id}", flash=_("Purchase request created."))

    @get("/{pr_id:int}")
    async def detail(self, request: Request, pr_id: FromPath[int]) -> Response:
        return await self._detail(request, pr_id)

    async def _detail(self, request: Request, pr_id: int, *, status_code: int = 200, errors: dict | None = None,
                      message: str = "") -> Response:
        pr = await purchasing.get_request(pr_id)
        if pr is None:
            raise not_found()
        moves, _c = await services.recent_moves(document=("purchase_request", str(pr_id)), limit=200)
        user = request.scope["user"]
        return render(request, "parts/purchase.html", status_code=status_code, pr=pr, moves=present_moves(moves, request.scope.get("user")), errors=errors or {},
                      message=message, token=services.new_token(), status_label=purchasing.status_label,
                      can_approve=can(user, "parts.purchase.approve"), can_receive=can(user, "parts.purchase.receive"),
                      **_ctx())

    @post("/{pr_id:int}/approve", opt=perm("parts.purchase.approve"))
    async def approve(self, request: Request, pr_id: FromPath[int]) -> Response:
        form = parse_or_raise(DecisionForm, await form_data(request))
        try:
            if form.decision == "reject":
                await purchasing.reject(actor(request), pr_id, form.note)
            else:
                await purchasing.approve(actor(request), pr_id, form.note)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, pr_id, status_code=exc.status, errors=exc.errors, message=exc.message)
        return redirect(request, f"/parts/purchases/{pr_id}", flash=_("Decision recorded."))

    @post("/{pr_id:int}/receive", opt=perm("parts.purchase.receive"))
    async def receive(self, request: Request, pr_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        form = parse_or_raise(TokenForm, {"token": raw.get("token", "")})
        try:
            n = await purchasing.receive_request(actor(request), pr_id, _keyed(raw, "qty"), _keyed(raw, "serials"),
                                                 token=form.token)
        except DomainError as exc:
            if is_duplicate_submit(exc):
                return _booked_once(request, f"/parts/purchases/{pr_id}")
            _own_form(exc)
            return await self._detail(request, pr_id, status_code=exc.status, errors=exc.errors, message=exc.message)
        return redirect(request, f"/parts/purchases/{pr_id}", flash=_("%(n)s received into stock.", n=n))


# ---------------------------------------------------------------------------- emergency store (R-INV-05)


class EmergencyController(Controller):
    path = "/emergency"
    opt = perm("parts.emergency.request")

    @get("/", name="emergency.list")
    async def list_requests(self, request: Request, status: FromQuery[str] = "open",
                            before: FromQuery[int | None] = None) -> Response:
        rows, cursor = await emergency.list_requests(status, before)
        store = await fetch("SELECT l.*, u.full_name AS keeper_name, u.username AS keeper_username FROM stock_location l "
                            "LEFT JOIN app_user u ON u.id = l.keeper_user_id WHERE l.kind = 'emergency' ORDER BY l.id LIMIT 1")
        stock = []
        if store:
            stock = await _location_stock(store[0]["id"], None, limit=30)
        return render(request, "parts/emergency_list.html", rows=rows, cursor=cursor, status=status, store=store[0] if store else None,
                      stock=stock, status_label=emergency.status_label, **_ctx())

    @get("/new")
    async def new(self, request: Request, part: FromQuery[str] = "", customer_id: FromQuery[str] = "") -> Response:
        form: dict = {}
        if customer_id.isdigit() and len(customer_id) <= 9:  # #12.8: back from the customer picker
            from app.customers.api import get_customer

            customer = await get_customer(int(customer_id))
            if customer is not None:
                form = {"customer_id": str(customer["id"]), "customer_name": customer["name"]}
        return await self._form(request, [(part[:60], "1" if part else "")] + [("", "")] * 3, form=form)

    async def _form(self, request: Request, lines: list, *, form: dict, errors: dict | None = None, message: str = "",
                    status_code: int = 200) -> Response:
        return render(request, "parts/emergency_form.html", status_code=status_code, lines=lines, errors=errors or {},
                      form=form, message=message, token=services.new_token(), stock=await emergency.emergency_stock(),
                      engineers=await emergency.engineers(), **_ctx())

    @post("/new")
    async def create(self, request: Request) -> Response:
        raw = await form_data(request)
        form = parse_or_raise(EmergencyRequestForm, raw)
        lines = _lines(raw)
        data = emergency.RequestInput(customer_name=form.customer_name, customer_id=form.customer_id, reason=form.reason,
                                      engineer=form.engineer, lines=lines, token=form.token)
        try:
            req_id = await emergency.create_request(actor(request), data)
        except DomainError as exc:
            if is_duplicate_submit(exc):
                return _booked_once(request, "/emergency")
            _own_form(exc)
            return await self._form(request, lines, form=dict(raw), errors=exc.errors, message=exc.message, status_code=400)
        return redirect(request, f"/emergency/{req_id}", flash=_("Release request sent to the general manager."))

    @get("/{req_id:int}")
    async def detail(self, request: Request, req_id: FromPath[int]) -> Response:
        return await self._detail(request, req_id)

    async def _detail(self, request: Request, req_id: int, *, status_code: int = 200, errors: dict | None = None,
                      message: str = "", form: dict | None = None) -> Response:
        req = await emergency.get_request(req_id)
        if req is None:
            raise not_found()
        user = request.scope["user"]
        engineers = await emergency.engineers()
        return render(request, "parts/emergency.html", status_code=status_code, req=req, errors=errors or {},
                      message=message, form=form or {}, token=services.new_token(), status_label=emergency.status_label,
                      engineers=engineers, can_approve=can(user, "parts.emergency.approve"),
                      can_issue=can(user, "parts.emergency.issue"), **_ctx())

    @post("/{req_id:int}/decide", opt=perm("parts.emergency.approve"))
    async def decide(self, request: Request, req_id: FromPath[int]) -> Response:
        form = parse_or_raise(DecisionForm, await form_data(request))
        try:
            if form.decision == "reject":
                await emergency.reject(actor(request), req_id, form.note)
            else:
                await emergency.approve(actor(request), req_id, form.note)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, req_id, status_code=exc.status, errors=exc.errors, message=exc.message)
        return redirect(request, f"/emergency/{req_id}", flash=_("Decision recorded."))

    @post("/{req_id:int}/issue", opt=perm("parts.emergency.issue"))
    async def issue(self, request: Request, req_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        form = parse_or_raise(IssueForm, {"engineer": raw.get("engineer", ""), "token": raw.get("token", "")})
        try:
            await emergency.issue(actor(request), req_id, engineer=form.engineer, serials=_keyed(raw, "serials"),
                                  token=form.token)
        except DomainError as exc:
            if is_duplicate_submit(exc):
                return _booked_once(request, f"/emergency/{req_id}")
            _own_form(exc)
            return await self._detail(request, req_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                      form=raw)
        return redirect(request, f"/emergency/{req_id}", flash=_("Issued from the emergency store."))

    @post("/{req_id:int}/cancel")
    async def cancel(self, request: Request, req_id: FromPath[int]) -> Response:
        try:
            await emergency.cancel(actor(request), req_id)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, req_id, status_code=exc.status, message=exc.message)
        return redirect(request, f"/emergency/{req_id}", flash=_("Request cancelled."))

    @get("/{req_id:int}/print")
    async def print_release(self, request: Request, req_id: FromPath[int]) -> Response:
        req = await emergency.get_request(req_id)
        if req is None:
            raise not_found()
        return render(request, "print/parts/emergency_release.html", **await paper(), req=req, status_label=emergency.status_label, **_ctx())


# ---------------------------------------------------------------------------- stocktake (R-INV-06)


class StocktakeController(Controller):
    path = "/parts/stocktakes"
    opt = perm("parts.stocktake")

    @get("/", name="parts.stocktakes")
    async def list_stocktakes(self, request: Request, before: FromQuery[int | None] = None) -> Response:
        rows, cursor = await stocktake.list_stocktakes(before)
        return render(request, "parts/stocktakes.html", rows=rows, cursor=cursor, locations=await services.list_locations(),
                      token=services.new_token(), errors={}, **_ctx())

    @post("/", opt=perm("parts.stocktake"))
    async def start(self, request: Request) -> Response:
        form = parse_or_raise(StocktakeStartForm, await form_data(request))
        try:
            st_id = await stocktake.start(actor(request), form.location, token=form.token, blind=form.blind)
        except DomainError as exc:
            if is_duplicate_submit(exc):
                return _booked_once(request, "/parts/stocktakes")
            _own_form(exc)
            rows, cursor = await stocktake.list_stocktakes()
            return render(request, "parts/stocktakes.html", status_code=400, rows=rows, cursor=cursor, errors=exc.errors,
                          message=exc.message, locations=await services.list_locations(), token=services.new_token(), **_ctx())
        return redirect(request, f"/parts/stocktakes/{st_id}", flash=_("Count started."))

    @get("/{st_id:int}")
    async def detail(self, request: Request, st_id: FromPath[int]) -> Response:
        return await self._detail(request, st_id)

    async def _detail(self, request: Request, st_id: int, *, status_code: int = 200, errors: dict | None = None,
                      message: str = "", counts: dict | None = None, scanned: dict | None = None) -> Response:
        st = await stocktake.get(st_id)
        if st is None:
            raise not_found()
        user = request.scope["user"]
        return render(request, "parts/stocktake.html", status_code=status_code, st=st, errors=errors or {}, message=message,
                      counts=counts or {}, can_approve=can(user, "parts.stocktake.approve"),
                      needs_gm=st["location_kind"] == "emergency" and st["has_differences"]
                      and not can(user, "parts.emergency.approve"),
                      hide_book=st["blind"] and st["status"] == "counting", scanned=scanned,
                      **_ctx())

    @post("/{st_id:int}/scan", opt=perm("parts.stocktake"))
    async def scan(self, request: Request, st_id: FromPath[int]) -> Response:
        """#12.1: one scan (the scanner types the code and Enter); back to the sheet with the scan box focused."""
        form = parse_or_raise(ScanForm, await form_data(request))
        try:
            result = await stocktake.scan(actor(request), st_id, form.code, form.part_no)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, st_id, status_code=exc.status, errors=exc.errors, message=exc.message)
        return await self._detail(request, st_id, scanned=result)

    @post("/{st_id:int}/finish", opt=perm("parts.stocktake"))
    async def finish(self, request: Request, st_id: FromPath[int]) -> Response:
        form = parse_or_raise(FinishForm, await form_data(request))
        if form.category and form.category not in CATEGORY_LABELS:
            raise DomainError(_("Choose a category."), field="category")
        n = await stocktake.finish(actor(request), st_id, form.category)
        return redirect(request, f"/parts/stocktakes/{st_id}", flash=_("%(n)s lines not scanned were counted as 0.", n=n))

    @post("/{st_id:int}/counts")
    async def counts(self, request: Request, st_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        form = parse_or_raise(CountsForm, {"add_part": raw.get("add_part", ""), "submit": raw.get("submit", "")})
        counts = _keyed(raw, "count")
        try:
            if form.add_part:
                await stocktake.add_line(actor(request), st_id, form.add_part)
            await stocktake.enter_counts(actor(request), st_id, counts)
            if form.submit == "1":
                await stocktake.submit(actor(request), st_id)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, st_id, status_code=exc.status, errors=exc.errors, message=exc.message,
                                      counts=counts)
        flash = _("Count submitted for approval.") if form.submit == "1" else _("Counts saved.")
        return redirect(request, f"/parts/stocktakes/{st_id}", flash=flash)

    @post("/{st_id:int}/decide", opt=perm("parts.stocktake.approve"))
    async def decide(self, request: Request, st_id: FromPath[int]) -> Response:
        form = parse_or_raise(DecisionForm, await form_data(request))
        try:
            if form.decision == "reject":
                await stocktake.reject(actor(request), st_id, form.reason)
                return redirect(request, f"/parts/stocktakes/{st_id}", flash=_("Sent back for a recount."))
            n = await stocktake.approve(actor(request), st_id, form.reason)
        except DomainError as exc:
            _own_form(exc)
            return await self._detail(request, st_id, status_code=exc.status, errors=exc.errors, message=exc.message)
        return redirect(request, f"/parts/stocktakes/{st_id}", flash=_("Approved: %(n)s differences posted.", n=n))

    @get("/{st_id:int}/sheet")
    async def sheet(self, request: Request, st_id: FromPath[int]) -> Response:
        st = await stocktake.get(st_id)
        if st is None:
            raise not_found()
        return render(request, "print/parts/count_sheet.html", **await paper(), st=st, **_ctx())
