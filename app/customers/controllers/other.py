"""Renewal notices, the price list and customer documents."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core.dates import today
from app.core.errors import DomainError, not_found
from app.core.forms import parse_or_raise
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.settings import set_setting, setting
from app.core.web import actor, form_data, redirect, render
from app.customers import documents as docs
from app.customers import pricing, renewals
from app.customers import services as svc
from app.customers.schemas import NoticeForm, RenewalDaysForm, TierForm
from app.customers.controllers._common import _lookups


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
