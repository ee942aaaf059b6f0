"""Device pages (/devices): register, warranty lookup, failures and repairs."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core.dates import parse_date, today
from app.core.errors import DomainError, not_found
from app.core.forms import parse_or_raise
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.sections import render_sections, sections_for
from app.core.settings import setting
from app.core.web import actor, form_data, redirect, render
from app.core.xlsx import xlsx_response
from app.customers import importer, pricing, renewals
from app.customers import services as svc
from app.customers.listing import present_devices
from app.customers.schemas import DeviceForm, EventForm, checked, device_input, opt_id
from app.customers.controllers._common import _can_edit, _lookups, _plain, _version


async def _device_form_ctx(customer_id: int | None) -> dict:
    customer = await svc.get_customer(customer_id) if customer_id else None
    contracts = await svc.contracts_for_picker(customer_id) if customer else []
    return {"customer": customer, "contracts": contracts, "price_items": await pricing.price_list()}


class DeviceController(Controller):
    path = "/devices"
    opt = perm("customers.view")

    @get("/", name="devices.list")
    async def list_devices(self, request: Request, q: FromQuery[str] = "", customer: FromQuery[str] = "",
                           system: FromQuery[str] = "", warranty: FromQuery[str] = "", replacement: FromQuery[str] = "",
                           contract: FromQuery[str] = "", before: FromQuery[str] = "") -> Response:
        flt = svc.DeviceFilter(q=_plain(q), customer_id=opt_id(customer), system=_plain(system), warranty=_plain(warranty),
                               replacement=replacement == "1", contract_id=opt_id(contract))
        rows, cursor = await svc.list_devices(flt, before=opt_id(before))
        raw = {"q": q, "customer": customer, "system": system, "warranty": warranty, "replacement": replacement,
               "contract": contract}
        qs = urlencode({k: v for k, v in raw.items() if v})
        customer_row = await svc.get_customer(flt.customer_id) if flt.customer_id else None
        return render(request, "customers/devices.html", partial="customers/_device_rows.html", rows=present_devices(rows), cursor=cursor,
                      raw=raw, qs=qs, first_page=not before, customer=customer_row, can_edit=_can_edit(request),
                      renewal_days=await setting("customers.renewal_days"), **_lookups())

    @get("/export.xlsx", opt=perm("customers.export"))
    async def export(self, q: FromQuery[str] = "", customer: FromQuery[str] = "", system: FromQuery[str] = "",
                     warranty: FromQuery[str] = "", replacement: FromQuery[str] = "") -> Response:
        flt = svc.DeviceFilter(q=_plain(q), customer_id=opt_id(customer), system=_plain(system), warranty=_plain(warranty),
                               replacement=replacement == "1")
        return xlsx_response(f"devices-{today().isoformat()}.xlsx", await importer.export_devices(flt))

    @get("/lookup", name="devices.lookup")
    async def lookup(self, request: Request, serial: FromQuery[str] = "", on: FromQuery[str] = "") -> Response:
        """Fragment for other screens: "in warranty until X / expired on Y, why" (R-CUS-04/05/06)."""
        serial = _plain(serial)
        try:
            day = parse_date(on) if on else None
        except ValueError:
            day = None
        status = await svc.warranty_status(serial=serial, on=day) if serial.strip() else None
        return render(request, "customers/lookup_page.html", partial="customers/_lookup.html", status=status,
                      serial=svc.normalize_serial(serial), searched=bool(serial.strip()), **_lookups())

    @get("/new", opt=perm("customers.edit"))
    async def new_device(self, request: Request, customer_id: FromQuery[str] = "", q: FromQuery[str] = "") -> Response:
        ctx = await _device_form_ctx(opt_id(customer_id))
        if ctx["customer"] is None:
            matches = await svc.search_customers(_plain(q), limit=20) if q.strip() else []
            return render(request, "customers/device_pick_customer.html", q=q, matches=matches)
        form = svc.DeviceInput(customer_id=str(ctx["customer"]["id"]), system="cctv")
        return render(request, "customers/device_form.html", form=form, errors={}, device=None, **ctx, **_lookups())

    @post("/new", opt=perm("customers.edit"))
    async def create_device(self, request: Request) -> Response:
        raw = await form_data(request)
        data = device_input(raw)  # shown again on an error
        try:
            data = device_input(checked(DeviceForm, raw))
            device_id = await svc.create_device(actor(request), data)
        except DomainError as exc:
            if exc.status != 400:
                raise
            ctx = await _device_form_ctx(opt_id(data.customer_id))
            if ctx["customer"] is None:  # no form to show without a customer: the error page says why
                raise
            return render(request, "customers/device_form.html", status_code=400, form=data, errors=exc.errors,
                          message=exc.message, device=None, **ctx, **_lookups())
        return redirect(request, f"/devices/{device_id}", flash=_("Device %(serial)s registered.", serial=data.serial))

    @get("/{device_id:int}", name="devices.detail")
    async def detail(self, request: Request, device_id: FromPath[int]) -> Response:
        status = await svc.warranty_status(device_id=device_id)
        if status is None:
            raise not_found()
        user = request.scope["user"]
        return render(request, "customers/device_detail.html", status=status, device=status.device,
                      events=await svc.device_events(device_id), can_edit=_can_edit(request),
                      can_record=can(user, "customers.record_event"),
                      sections=await render_sections(sections_for("device"), device_id, user), errors={}, event_form={},
                      today=today(), **_lookups())

    @get("/{device_id:int}/edit", opt=perm("customers.edit"))
    async def edit(self, request: Request, device_id: FromPath[int]) -> Response:
        device = await svc.get_device(device_id)
        if device is None:
            raise not_found()
        form = svc.DeviceInput(**{k: ("" if device[k] is None else str(device[k])) for k in (
            "serial", "brand", "product_name", "model", "system", "kind", "capacity", "customer_id", "contract_id", "site",
            "install_date", "acceptance_date", "warranty_months", "notes")})
        ctx = await _device_form_ctx(device["customer_id"])
        return render(request, "customers/device_form.html", form=form, errors={}, device=device, **ctx, **_lookups())

    @post("/{device_id:int}/edit", opt=perm("customers.edit"))
    async def update(self, request: Request, device_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        device = await svc.get_device(device_id)
        if device is None:
            raise not_found()
        raw = {**raw, "customer_id": raw.get("customer_id", device["customer_id"])}
        data = device_input(raw)  # shown again on an error
        try:
            data = device_input(checked(DeviceForm, raw))
            await svc.update_device(actor(request), device_id, data, version=_version(raw))
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            ctx = await _device_form_ctx(device["customer_id"])
            return render(request, "customers/device_form.html", status_code=exc.status, form=data, errors=exc.errors,
                          message=exc.message, device=device, **ctx, **_lookups())
        return redirect(request, f"/devices/{device_id}", flash=_("Changes saved."))

    @post("/{device_id:int}/events", opt=perm("customers.record_event"))
    async def add_event(self, request: Request, device_id: FromPath[int]) -> Response:
        """Record a failure (R-CUS-05/06) or a repair / replacement from the device page."""
        raw = await form_data(request)
        try:
            flash = await _record_event(request, device_id, parse_or_raise(EventForm, raw))
        except DomainError as exc:
            if exc.status != 400:
                raise
            status = await svc.warranty_status(device_id=device_id)
            if status is None:
                raise not_found()
            user = request.scope["user"]
            return render(request, "customers/device_detail.html", status_code=400, status=status, device=status.device,
                          events=await svc.device_events(device_id), can_edit=_can_edit(request), can_record=True,
                          sections=await render_sections(sections_for("device"), device_id, user), errors=exc.errors,
                          message=exc.message, event_form=raw, today=today(), **_lookups())
        return redirect(request, f"/devices/{device_id}", flash=flash)


async def _record_event(request: Request, device_id: int, form: EventForm) -> str:
    """Record the event through the service (which refuses a future date itself); the flash to show."""
    if form.event_type == "failure":
        result = await svc.record_failure(actor(request), device_id, form.fault_code, form.unresolvable, "manual", "",
                                          occurred_on=form.occurred_on, description=form.description)
        flash = _("Failure recorded.")
        if result.extended:
            flash += " " + _("Warranty extended to %(end)s.", end=result.warranty.end.isoformat())
        if result.replacement_proposed:
            flash += " " + _("Same fault after %(n)s repairs: replacement with a new unit is proposed.",
                             n=await setting("customers.repeat_repair_count"))
        return flash
    await svc.record_repair(actor(request), device_id, form.fault_code, "manual", "", occurred_on=form.occurred_on,
                            description=form.description, replaced=form.event_type == "replacement")
    return _("Repair recorded.") if form.event_type == "repair" else _("Replacement recorded.")


# --------------------------------------------------------------------------- renewals, price list, documents
