"""Customer and contract pages (/customers, /contracts)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from app.core.dates import today
from app.core.errors import DomainError, not_found
from app.core.forms import parse_or_raise
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.sections import render_sections, sections_for
from app.core.settings import setting
from app.core.web import actor, form_data, redirect, render
from app.core.xlsx import xlsx_response
from app.core.printing import paper
from app.customers import documents as docs
from app.customers import importer, pricing, renewals
from app.customers.listing import present_customers, present_devices
from app.customers import services as svc
from app.customers.schemas import (ContractForm, CustomerForm, DocumentForm, OfficeForm, StageForm, checked,
                                   contract_input, customer_input, opt_id)
from app.customers.controllers._common import _can_edit, _lookups, _plain, _version


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
