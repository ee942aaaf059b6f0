"""Pages for customers, contracts, devices, renewals, the price list, documents and imports.

Permissions (declared in manifest.py; README.customers.md): every signed-in role reads
(`customers.view`); desk and manager edit customers, contracts and devices (`customers.edit`);
admin edits the price list (`customers.price_edit`). Services raise the shared DomainError;
handlers catch it only to re-render their own form with the field messages.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from app.core.dates import parse_date, today
from app.core.errors import DomainError, not_found
from app.core.forms import parse_or_raise, strip_control
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.sections import render_sections, sections_for
from app.core.settings import set_setting, setting
from app.core.web import actor, form_data, redirect, render
from app.core.xlsx import xlsx_response
from app.core.printing import paper
from app.customers import documents as docs
from app.customers import importer, pricing, renewals
from app.customers.listing import present_customers, present_devices
from app.customers import services as svc
from app.customers.schemas import (ContractForm, CustomerForm, DeviceForm, DocumentForm, EventForm, NoticeForm, OfficeForm,
                                   RenewalDaysForm, StageForm, TierForm, VersionForm, checked, contract_input,
                                   customer_input, device_input, opt_id)


def _lookups() -> dict:
    return {"classes": svc.CLASSES, "areas": svc.AREAS, "contract_types": svc.CONTRACT_TYPES, "stages": svc.STAGES,
            "statuses": svc.CONTRACT_STATUSES, "states": svc.CONTRACT_STATES, "tariffs": svc.TARIFF_POLICIES,
            "systems": svc.SYSTEMS, "event_types": svc.EVENT_TYPES, "methods": svc.NOTICE_METHODS, "kinds": docs.KINDS}


def _plain(text: str, limit: int = 100) -> str:
    """A search box or filter from the query string: control characters and NUL dropped (a NUL is an
    error on PostgreSQL), at most `limit` characters (issue #11.4). Filters search, they never refuse."""
    return strip_control(text or "").strip()[:limit]


def _can_edit(request: Request) -> bool:
    return can(request.scope["user"], "customers.edit")


def _version(raw: dict) -> int:
    """The hidden version of an edit form; a missing or unreadable one is a 400 (never "no check")."""
    return parse_or_raise(VersionForm, {"version": raw.get("version")}).version


# --------------------------------------------------------------------------- customers

class CustomerController(Controller):
    path = "/customers"
    opt = perm("customers.view")

    @get("/", name="customers.list")
    async def list_customers(self, request: Request, q: FromQuery[str] = "", office: FromQuery[str] = "",
                             cls: FromQuery[str] = "", ctype: FromQuery[str] = "", after: FromQuery[str] = "") -> Response:
        flt = svc.CustomerFilter(q=_plain(q), office_id=opt_id(office), customer_class=_plain(cls), contract_type=_plain(ctype))
        rows, cursor = await svc.list_customers(flt, after=opt_id(after))
        raw = {"q": q, "office": office, "cls": cls, "ctype": ctype}
        qs = urlencode({k: v for k, v in raw.items() if v})
        return render(request, "customers/list.html", partial="customers/_rows.html", rows=present_customers(rows), cursor=cursor, raw=raw,
                      qs=qs, first_page=not after, offices=await svc.list_offices(), can_edit=_can_edit(request),
                      **_lookups())

    @get("/pick", name="customers.pick")
    async def pick(self, request: Request, q: FromQuery[str] = "", link: FromQuery[str] = "") -> Response:
        """Fragment for other screens (ticket intake …): up to 10 matches with their active
        contracts. `link` is a URL prefix for each match (default the customer page), e.g.
        `/tickets/new?customer_id=` — only same-site paths are used."""
        rows = await svc.search_customers(_plain(q), limit=10) if q.strip() else []
        # "/\\host" and "/<TAB>/host" are "//host" to a browser: refuse backslashes and control characters too
        same_site = (link.startswith("/") and not link.startswith("//") and "\\" not in link
                     and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in link))
        prefix = link if same_site else "/customers/"
        return render(request, "customers/_pick.html", rows=rows, q=q, prefix=prefix, **_lookups())

    @get("/export.xlsx", opt=perm("customers.export"))
    async def export(self, q: FromQuery[str] = "", office: FromQuery[str] = "", cls: FromQuery[str] = "",
                     ctype: FromQuery[str] = "") -> Response:
        flt = svc.CustomerFilter(q=_plain(q), office_id=opt_id(office), customer_class=_plain(cls), contract_type=_plain(ctype))
        return xlsx_response(f"customers-{today().isoformat()}.xlsx", await importer.export_customers(flt))

    @get("/new", opt=perm("customers.edit"))
    async def new_customer(self, request: Request) -> Response:
        form = svc.CustomerInput(contacts=[svc.ContactInput()])
        return render(request, "customers/form.html", form=form, errors={}, customer=None,
                      offices=await svc.list_offices(), **_lookups())

    @post("/new", opt=perm("customers.edit"))
    async def create_customer(self, request: Request) -> Response:
        raw = await form_data(request)
        data = customer_input(raw)  # shown again on an error
        try:
            data = customer_input(checked(CustomerForm, raw))
            customer_id = await svc.create_customer(actor(request), data)
        except DomainError as exc:
            if exc.status != 400:
                raise
            if not data.contacts:
                data.contacts = [svc.ContactInput()]
            return render(request, "customers/form.html", status_code=400, form=data, errors=exc.errors,
                          message=exc.message, customer=None, offices=await svc.list_offices(), **_lookups())
        return redirect(request, f"/customers/{customer_id}", flash=_("Customer %(name)s created.", name=data.name))

    @get("/{customer_id:int}", name="customers.detail")
    async def detail(self, request: Request, customer_id: FromPath[int]) -> Response:
        customer = await svc.get_customer(customer_id)
        if customer is None:
            raise not_found()
        user = request.scope["user"]
        devices, device_cursor = await svc.list_devices(svc.DeviceFilter(customer_id=customer_id), limit=20)
        return render(
            request, "customers/detail.html", customer=customer, contracts=await svc.customer_contracts(customer_id),
            entitlement=await svc.customer_entitlement(customer_id), devices=present_devices(devices), more_devices=device_cursor is not None,
            documents=await docs.list_documents(customer_id), sections=await render_sections(sections_for("customer"), customer_id, user),
            due=await renewals.due_renewals(customer_id=customer_id), can_edit=_can_edit(request),
            can_quote=can(user, "customers.quote"), max_mb=(await docs.max_bytes()) // (1024 * 1024),
            allowed_types=", ".join(sorted(docs.ALLOWED)), errors={}, **_lookups())

    @get("/{customer_id:int}/edit", opt=perm("customers.edit"))
    async def edit(self, request: Request, customer_id: FromPath[int]) -> Response:
        customer = await svc.get_customer(customer_id)
        if customer is None:
            raise not_found()
        form = svc.CustomerInput(
            name=customer["name"], customer_class=customer["customer_class"], office_id=str(customer["office_id"]),
            address=customer["address"], area=customer["area"], distance_km=str(customer["distance_km"]),
            phone=customer["phone"], notes=customer["notes"],
            contacts=[svc.ContactInput(name=c["name"], phone=c["phone"], role=c["role"]) for c in customer["contacts"]]
            + [svc.ContactInput()])
        return render(request, "customers/form.html", form=form, errors={}, customer=customer,
                      offices=await svc.list_offices(active_only=False), **_lookups())

    @post("/{customer_id:int}/edit", opt=perm("customers.edit"))
    async def update(self, request: Request, customer_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        data = customer_input(raw)
        customer = await svc.get_customer(customer_id)
        if customer is None:
            raise not_found()
        try:
            data = customer_input(checked(CustomerForm, raw))
            await svc.update_customer(actor(request), customer_id, data, version=_version(raw))
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            data.contacts.append(svc.ContactInput())
            return render(request, "customers/form.html", status_code=exc.status, form=data, errors=exc.errors,
                          message=exc.message, customer=customer, offices=await svc.list_offices(active_only=False),
                          **_lookups())
        return redirect(request, f"/customers/{customer_id}", flash=_("Changes saved."))

    # ---- contracts (created from the customer)
    @get("/{customer_id:int}/contracts/new", opt=perm("customers.edit"))
    async def new_contract(self, request: Request, customer_id: FromPath[int], type: FromQuery[str] = "annual") -> Response:
        customer = await svc.get_customer(customer_id)
        if customer is None:
            raise not_found()
        start = today()
        form = svc.ContractInput(contract_type=type if type in svc.CONTRACT_TYPES else "annual",
                                 start_date=start.isoformat(), end_date=(start.replace(year=start.year + 1) - dt.timedelta(days=1)).isoformat()
                                 if not (start.month == 2 and start.day == 29) else start.isoformat(),
                                 warranty_months=str(await setting("customers.default_warranty_months")))
        return render(request, "customers/contract_form.html", form=form, errors={}, customer=customer, contract=None,
                      **_lookups())

    @post("/{customer_id:int}/contracts/new", opt=perm("customers.edit"))
    async def create_contract(self, request: Request, customer_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        data = contract_input(raw)  # shown again on an error
        customer = await svc.get_customer(customer_id)
        if customer is None:
            raise not_found()
        try:
            data = contract_input(checked(ContractForm, raw))
            contract_id = await svc.create_contract(actor(request), customer_id, data)
        except DomainError as exc:
            if exc.status != 400:
                raise
            return render(request, "customers/contract_form.html", status_code=400, form=data, errors=exc.errors,
                          message=exc.message, customer=customer, contract=None, **_lookups())
        return redirect(request, f"/contracts/{contract_id}", flash=_("Contract created."))

    # ---- quote (R-CUS-03)
    @get("/{customer_id:int}/quote", opt=perm("customers.quote"))
    async def quote(self, request: Request, customer_id: FromPath[int]) -> Response:
        form = {k: v for k, v in request.query_params.items() if k.startswith("q_")}
        ctx = await pricing.build_quote(customer_id, form or None)
        qs = urlencode(form) if form else ""
        return render(request, "customers/quote.html", status_code=400 if ctx["errors"] else 200, qs=qs, **ctx, **_lookups())

    @get("/{customer_id:int}/quote/print", opt=perm("customers.quote"))
    async def quote_print(self, request: Request, customer_id: FromPath[int]) -> Response:
        form = {k: v for k, v in request.query_params.items() if k.startswith("q_")}
        ctx = await pricing.build_quote(customer_id, form or None)
        return render(request, "print/customers/quote.html", **await paper(), today=today(), **ctx, **_lookups())

    # ---- renewal notice letter (R-CUS-07)
    @get("/{customer_id:int}/renewal-letter", opt=perm("customers.renewals"))
    async def renewal_letter(self, request: Request, customer_id: FromPath[int]) -> Response:
        ctx = await renewals.letter_context(customer_id)
        if ctx is None:
            raise not_found()
        return render(request, "print/customers/renewal_letter.html", **await paper(), **ctx, **_lookups())

    # ---- hand-over documents (R-CUS-08)
    @post("/{customer_id:int}/documents", opt=perm("customers.edit"), request_max_body_size=64 * 1024 * 1024)  # upper bound; the setting (20 MB) decides
    async def upload(self, request: Request, customer_id: FromPath[int]) -> Response:
        data = await form_data(request)
        upload = data.get("file")
        content, filename = b"", ""
        if isinstance(upload, UploadFile):
            filename = upload.filename or ""
            limit = await docs.max_bytes()
            content = await upload.read(limit + 1)
        try:
            form = parse_or_raise(DocumentForm, {k: v for k, v in data.items() if k != "file"})
            await docs.save_document(actor(request), customer_id, filename=filename, data=content, kind=form.kind,
                                     title=form.title, contract_id=form.contract_id)
        except DomainError as exc:
            if exc.status != 400:
                raise
            customer = await svc.get_customer(customer_id)
            return render(request, "customers/documents_page.html", status_code=400, customer=customer,
                          documents=await docs.list_documents(customer_id), errors=exc.errors, message=exc.message,
                          contracts=await svc.customer_contracts(customer_id), can_edit=True,
                          max_mb=(await docs.max_bytes()) // (1024 * 1024), allowed_types=", ".join(sorted(docs.ALLOWED)),
                          standalone=True, **_lookups())
        return redirect(request, f"/customers/{customer_id}#documents", flash=_("Document uploaded."))

    # ---- service offices (the regions customers belong to)
    @get("/offices", opt=perm("customers.configure"))
    async def offices(self, request: Request) -> Response:
        return render(request, "customers/offices.html", offices=await svc.list_offices(active_only=False), errors={},
                      form=svc.OfficeInput(), failed=None)

    @post("/offices", opt=perm("customers.configure"))
    async def save_office(self, request: Request) -> Response:
        raw = await form_data(request)
        office_id = opt_id(raw.get("office_id"))
        data = svc.OfficeInput(**{k: str(raw.get(k, "")) for k in ("code", "name", "city", "address", "phone")})  # echoed on error
        try:
            form = parse_or_raise(OfficeForm, raw)
            data = svc.OfficeInput(code=form.code, name=form.name, city=form.city, address=form.address, phone=form.phone,
                                   is_active=form.is_active)
            await svc.save_office(actor(request), data, form.office_id)
        except DomainError as exc:
            if exc.status != 400:
                raise
            return render(request, "customers/offices.html", status_code=400, offices=await svc.list_offices(active_only=False),
                          errors=exc.errors, message=exc.message, form=data, failed=office_id or "new")
        return redirect(request, "/customers/offices", flash=_("Office saved."))

    # ---- import (customers and devices)
    @get("/import", opt=perm("customers.edit"))
    async def import_page(self, request: Request, kind: FromQuery[str] = "customers") -> Response:
        return render(request, "customers/import.html", kind=kind if kind in importer.COLUMNS else "customers",
                      preview=None, columns=importer.COLUMNS)

    @get("/import/template.csv", opt=perm("customers.edit"))
    async def import_template(self, kind: FromQuery[str] = "customers") -> Response:
        kind = kind if kind in importer.COLUMNS else "customers"
        return Response(content=importer.template_csv(kind), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f"attachment; filename={kind}-template.csv"})

    @post("/import", opt=perm("customers.edit"), request_max_body_size=20 * 1024 * 1024)
    async def import_preview(self, request: Request) -> Response:
        data = await form_data(request)
        kind = str(data.get("kind", "customers"))
        if kind not in importer.COLUMNS:
            kind = "customers"
        upload = data.get("file")
        content, filename = b"", ""
        if isinstance(upload, UploadFile):
            filename = upload.filename or ""
            content = await upload.read(importer.MAX_BYTES + 1)
        preview = await importer.preview(actor(request), kind, filename, content)
        return render(request, "customers/import.html", status_code=200 if preview.ok else 400, kind=kind,
                      preview=preview, columns=importer.COLUMNS)

    @post("/import/commit", opt=perm("customers.edit"))
    async def import_commit(self, request: Request) -> Response:
        data = await form_data(request)
        try:
            kind, count = await importer.commit(actor(request), str(data.get("token", "")))
        except DomainError as exc:  # the import page shows why (expired token, rows no longer valid)
            return render(request, "customers/import.html", status_code=exc.status, kind=str(data.get("kind", "customers")),
                          preview=None, columns=importer.COLUMNS, message=exc.message)
        target = "/customers" if kind == "customers" else "/devices"
        return redirect(request, target, flash=_("%(n)s rows imported.", n=count))


class ContractController(Controller):
    path = "/contracts"
    opt = perm("customers.view")

    @get("/{contract_id:int}", name="contracts.detail")
    async def detail(self, request: Request, contract_id: FromPath[int]) -> Response:
        contract = await svc.get_contract(contract_id)
        if contract is None:
            raise not_found()
        n_devices = (await svc.fetch("SELECT COUNT(*) AS n FROM device WHERE contract_id = {}", contract_id))[0]["n"]
        devices, more = await svc.list_devices(svc.DeviceFilter(contract_id=contract_id), limit=20)
        documents = [d for d in await docs.list_documents(contract["customer_id"]) if d["contract_id"] == contract_id]
        return render(request, "customers/contract_detail.html", contract=contract, devices=present_devices(devices),
                      more_devices=more is not None, documents=documents,
                      history=await svc.contract_history(contract_id), n_devices=n_devices,
                      can_edit=_can_edit(request), errors={}, **_lookups())

    @get("/{contract_id:int}/edit", opt=perm("customers.edit"))
    async def edit(self, request: Request, contract_id: FromPath[int]) -> Response:
        contract = await svc.get_contract(contract_id)
        if contract is None:
            raise not_found()
        form = svc.ContractInput(
            contract_type=contract["contract_type"], title=contract["title"], start_date=str(contract["start_date"]),
            end_date=str(contract["end_date"]), status=contract["status"], stage=contract["stage"],
            response_hours=str(contract["response_hours"]), onsite_hours_city=str(contract["onsite_hours_city"]),
            onsite_hours_suburb=str(contract["onsite_hours_suburb"]), warranty_months=str(contract["warranty_months"]),
            tariff_policy=contract["tariff_policy"], amount=str(contract["amount"]), notes=contract["notes"])
        customer = await svc.get_customer(contract["customer_id"])
        return render(request, "customers/contract_form.html", form=form, errors={}, customer=customer, contract=contract,
                      **_lookups())

    @post("/{contract_id:int}/edit", opt=perm("customers.edit"))
    async def update(self, request: Request, contract_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        contract = await svc.get_contract(contract_id)
        if contract is None:
            raise not_found()
        data = contract_input({**raw, "stage": contract["stage"]})
        try:
            data = contract_input(checked(ContractForm, {**raw, "stage": contract["stage"]}))
            await svc.update_contract(actor(request), contract_id, data, version=_version(raw))
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            customer = await svc.get_customer(contract["customer_id"])
            return render(request, "customers/contract_form.html", status_code=exc.status, form=data, errors=exc.errors,
                          message=exc.message, customer=customer, contract=contract, **_lookups())
        return redirect(request, f"/contracts/{contract_id}", flash=_("Changes saved."))

    @post("/{contract_id:int}/stage", opt=perm("customers.edit"))
    async def stage(self, request: Request, contract_id: FromPath[int]) -> Response:
        form = parse_or_raise(StageForm, await form_data(request))
        try:
            await svc.change_stage(actor(request), contract_id, form.stage, note=form.note, version=form.version)
        except DomainError as exc:
            if exc.status != 409:
                raise
            # a second click or a colleague's change: back to the contract page, which shows the current stage
            return redirect(request, f"/contracts/{contract_id}", flash=exc.message, level="danger")
        return redirect(request, f"/contracts/{contract_id}", flash=_("Stage changed."))


# --------------------------------------------------------------------------- devices

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

class RenewalController(Controller):
    path = "/renewals"
    opt = perm("customers.renewals")

    @get("/", name="renewals.list")
    async def list_due(self, request: Request, show: FromQuery[str] = "open") -> Response:
        items = (await renewals.due_renewals(include_sent=show == "all", limit=100))[:100]
        method_options = [(code, str(label)) for code, label in svc.NOTICE_METHODS.items()]
        return render(request, "customers/renewals.html", items=items, show=show, days=await setting("customers.renewal_days"),
                      method_options=method_options,
                      today=today(), errors={}, can_configure=can(request.scope["user"], "customers.configure"),
                      **_lookups())

    @post("/notice")
    async def notice(self, request: Request) -> Response:
        form = parse_or_raise(NoticeForm, await form_data(request))
        count = await renewals.mark_notice_sent(actor(request), kind=form.kind, subject_id=form.subject_id or 0,
                                                sent_on=form.sent_on, method=form.method, note=form.note)
        flash = _("Notice recorded.") if count else _("The notice had already been recorded.")
        return redirect(request, "/renewals", flash=flash, level="success" if count else "info")

    @post("/settings", opt=perm("customers.configure"))
    async def settings(self, request: Request) -> Response:
        days = parse_or_raise(RenewalDaysForm, await form_data(request)).days
        await set_setting(actor(request), "customers.renewal_days", days)
        return redirect(request, "/renewals", flash=_("Reminder window set to %(n)s days.", n=days))


class PriceListController(Controller):
    path = "/price-list"
    opt = perm("customers.quote")

    @get("/", name="price_list")
    async def show(self, request: Request) -> Response:
        return render(request, "customers/price_list.html", items=await pricing.price_list(), errors={}, failed_tier=None,
                      can_edit=can(request.scope["user"], "customers.price_edit"), tier_range=pricing.tier_range, **_lookups())

    @post("/{tier_id:int}", opt=perm("customers.price_edit"))
    async def update(self, request: Request, tier_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        try:
            form = parse_or_raise(TierForm, raw)
            await pricing.update_tier(actor(request), tier_id, price=form.price, note=form.note, min_value=form.min_value,
                                      version=form.version)
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            return render(request, "customers/price_list.html", status_code=exc.status, items=await pricing.price_list(),
                          errors=exc.errors, message=exc.message, failed_tier=tier_id, can_edit=True,
                          tier_range=pricing.tier_range, **_lookups())
        return redirect(request, "/price-list", flash=_("Price saved."))


class DocumentController(Controller):
    path = "/documents"
    opt = perm("customers.view")

    @get("/{document_id:int}/download")
    async def download(self, document_id: FromPath[int]) -> Response:
        """Always an attachment with a fixed content type; nosniff and a sandbox CSP (R-CUS-08)."""
        row = await docs.get_document(document_id)
        if row is None:
            raise not_found()
        try:
            path = docs.document_path(row)
            content = path.read_bytes()
        except OSError:  # the file is gone (document_path itself refuses foreign names with a 404)
            raise not_found() from None
        ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in row["original_name"])
        # the stored type may carry "; charset=utf-8": Litestar adds the charset to text/* itself (once)
        media_type = str(row["content_type"]).split(";", 1)[0].strip() or "application/octet-stream"
        return Response(content=content, media_type=media_type, headers={
            "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row['original_name'])}",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; sandbox",
            "cache-control": "private, no-store",
        })

    @post("/{document_id:int}/delete", opt=perm("customers.edit"))
    async def delete(self, request: Request, document_id: FromPath[int]) -> Response:
        customer_id = await docs.delete_document(actor(request), document_id)
        return redirect(request, f"/customers/{customer_id}#documents", flash=_("Document removed."))


CONTROLLERS = [CustomerController, ContractController, DeviceController, RenewalController, PriceListController,
               DocumentController]
