"""Scrap pages (issue #14): the list, raising a request (with prefill from the bench, a loaner check-in or a
stocktake), the record with its appraisal, approval and disposal actions, the A4 scrap record, finance's
monthly write-off list (+ XLSX), the monthly quality batch and report (R-SCR-02).

Thin handlers: parse the form → one service call → redirect, or re-render their own form on a DomainError.
"""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from app.core.dates import today
from app.core.errors import DomainError
from app.core.forms import parse_or_raise, path_id
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.web import actor, form_data, redirect, render
from app.core.xlsx import workbook, xlsx_response
from app.core.dates import as_date
from app.core.printing import paper
from app.scrap import batches, photos, queries, services
from app.scrap.schemas import (BatchInput, ConveneInput, DecisionInput, DisposeInput, OpinionInput, RaiseInput,
                               WithdrawInput)
from app.scrap.status import (LABELS, METHOD_LABELS, OPINION_LABELS, REASON_LABELS, RETURN_LABELS, SOURCE_LABELS,
                              STAGE_LABELS, TONES, TRANSITIONS)

TABS = ("open", "draft", "appraising", "appraised", "manager_approved", "gm_approved", "disposed", "rejected", "all", "mine")
PREFILL = ("serial", "part_no", "qty", "source_type", "source_ref", "loan_number", "reason", "note")


def _ctx() -> dict:
    return {"labels": LABELS, "tones": TONES, "reason_labels": REASON_LABELS, "source_labels": SOURCE_LABELS,
            "opinion_labels": OPINION_LABELS, "method_labels": METHOD_LABELS, "return_labels": RETURN_LABELS,
            "stage_labels": STAGE_LABELS, "transition_labels": {k: t.label for k, t in TRANSITIONS.items()}}


def _month(value: str) -> str:
    value = (value or "").strip()
    obj = BatchInput(month=value)
    return value if value and not obj.validate() else today().strftime("%Y-%m")


class ScrapController(Controller):
    path = "/scrap"
    opt = perm("scrap.view")

    @get("/", name="scrap.list")
    async def index(self, request: Request, status: FromQuery[str] = "open", q: FromQuery[str] = "",
                    before: FromQuery[int | None] = None) -> Response:
        status = status if status in TABS else "open"
        user = request.scope["user"]
        rows, cursor = await queries.list_requests(
            status="" if status in ("all", "mine") else status, q=q[:100],
            mine_user_id=user.id if status == "mine" else None, before=before)
        base = "/scrap?" + urlencode({"status": status, "q": q})
        return render(request, "scrap/list.html", partial="scrap/_rows.html", rows=rows, status=status, q=q,
                      tabs=TABS, first_url=base, next_url=(base + f"&before={cursor}") if cursor else None,
                      first_page=before is None, **_ctx())

    # ------------------------------------------------------------------ raise

    @get("/new", name="scrap.new", opt=perm("scrap.raise"))
    async def new(self, request: Request) -> Response:
        values = {k: str(request.query_params.get(k, ""))[:200] for k in PREFILL}
        values["source_type"] = values["source_type"] if values["source_type"] in SOURCE_LABELS else "manual"
        return await self._new_form(request, values, {}, "")

    async def _new_form(self, request: Request, values: dict, errors: dict, message: str, status: int = 200) -> Response:
        hint = None
        if values.get("part_no") and not values.get("serial"):
            import app.parts.api as parts

            part = await parts.part_by_no(str(values["part_no"]))
            if part is not None and not part["serialised"]:
                hint = {"part": part, "available": await services.available_in_quarantine(part["id"])}
        return render(request, "scrap/new.html", status_code=status, values=values, errors=errors, message=message,
                      hint=hint, **_ctx())

    @post("/new", opt=perm("scrap.raise"))
    async def create(self, request: Request) -> Response:
        raw = await form_data(request)
        try:
            data = parse_or_raise(RaiseInput, raw)
            rid = await services.raise_request(actor(request), data)
        except DomainError as exc:
            values = {k: raw.get(k, "") for k in (*PREFILL, "value", "value_reason")}
            return await self._new_form(request, values, exc.errors, exc.message, status=exc.status)
        row = await services.get_request(rid)
        return redirect(request, f"/scrap/{rid}", flash=_("Scrap record %(number)s raised.", number=row["number"]))

    # ------------------------------------------------------------------ one record

    async def _detail(self, request: Request, rid: int, *, errors: dict | None = None, message: str = "",
                      form: str = "", status: int = 200) -> Response:
        row = await services.get_request(rid)
        if row is None:
            raise DomainError(_("There is nothing at this address."), status=404)
        user = request.scope["user"]
        can_do = await services.actions_for(user, row)
        candidates = await services.appraiser_candidates(exclude_user_id=row["requested_by"]) if can_do["convene"] else []
        return render(request, "scrap/detail.html", status_code=status, r=row, can_do=can_do,
                      appraisers=await services.appraisers(rid), opinions=await services.opinions(rid),
                      history=await queries.history(rid), candidates=candidates, photos=await photos.photos(rid), quorum=await services.quorum(),
                      threshold=await services.gm_threshold(), errors=errors or {}, message=message, form=form,
                      today=today(), **_ctx())

    @get("/{rid:str}", name="scrap.detail")
    async def detail(self, request: Request, rid: FromPath[str]) -> Response:
        return await self._detail(request, path_id(rid))

    async def _act(self, request: Request, rid: str, form: str, call) -> Response:
        rid_int = path_id(rid)
        raw = await form_data(request)
        try:
            flash = await call(rid_int, raw)
        except DomainError as exc:
            return await self._detail(request, rid_int, errors=exc.errors, message=exc.message, form=form,
                                      status=exc.status)
        return redirect(request, f"/scrap/{rid_int}", flash=flash)

    @post("/{rid:str}/convene", opt=perm("scrap.raise"))
    async def convene(self, request: Request, rid: FromPath[str]) -> Response:
        async def call(rid_int: int, raw: dict) -> str:
            await services.convene(actor(request), rid_int, parse_or_raise(ConveneInput, raw))
            return _("The appraisal group is convened.")

        return await self._act(request, rid, "convene", call)

    @post("/{rid:str}/opinion", opt=perm("scrap.appraise"))
    async def opinion(self, request: Request, rid: FromPath[str]) -> Response:
        async def call(rid_int: int, raw: dict) -> str:
            await services.give_opinion(actor(request), rid_int, parse_or_raise(OpinionInput, raw))
            return _("Your opinion is recorded.")

        return await self._act(request, rid, "opinion", call)

    @post("/{rid:str}/manager", opt=perm("scrap.approve"))
    async def manager(self, request: Request, rid: FromPath[str]) -> Response:
        async def call(rid_int: int, raw: dict) -> str:
            row = await services.decide(actor(request), rid_int, parse_or_raise(DecisionInput, raw), level="manager")
            return _("Approved.") if row["status"] != "rejected" else _("Refused; the item went back.")

        return await self._act(request, rid, "manager", call)

    @post("/{rid:str}/gm", opt=perm("scrap.approve_gm"))
    async def gm(self, request: Request, rid: FromPath[str]) -> Response:
        async def call(rid_int: int, raw: dict) -> str:
            row = await services.decide(actor(request), rid_int, parse_or_raise(DecisionInput, raw), level="gm")
            return _("Approved.") if row["status"] != "rejected" else _("Refused; the item went back.")

        return await self._act(request, rid, "gm", call)

    @post("/{rid:str}/withdraw", opt=perm("scrap.raise"))
    async def withdraw(self, request: Request, rid: FromPath[str]) -> Response:
        async def call(rid_int: int, raw: dict) -> str:
            await services.withdraw(actor(request), rid_int, parse_or_raise(WithdrawInput, raw))
            return _("The request is withdrawn; the item went back.")

        return await self._act(request, rid, "withdraw", call)

    @post("/{rid:str}/dispose", opt=perm("scrap.dispose"))
    async def dispose(self, request: Request, rid: FromPath[str]) -> Response:
        async def call(rid_int: int, raw: dict) -> str:
            await services.dispose(actor(request), rid_int, parse_or_raise(DisposeInput, raw))
            row = await services.get_request(rid_int)
            if row["loan_id"] and row["loan_converted_at"] is None:
                return _("Disposed. The loaner could not be marked as a permanent replacement: %(why)s",
                         why=row["loan_note"])
            return _("Disposed; the stock left quarantine.")

        return await self._act(request, rid, "dispose", call)

    @post("/{rid:str}/annotate", opt=perm("scrap.dispose"))
    async def annotate(self, request: Request, rid: FromPath[str]) -> Response:
        async def call(rid_int: int, raw: dict) -> str:
            done = await services.annotate_loan(actor(request), rid_int)
            row = await services.get_request(rid_int)
            if not done:
                raise DomainError(row["loan_note"] or _("Nothing to annotate."), status=409)
            return _("The loaner is now the customer's unit (permanent replacement).")

        return await self._act(request, rid, "annotate", call)

    @post("/{rid:str}/photos", opt=perm("scrap.raise", "scrap.appraise"))
    async def add_photos(self, request: Request, rid: FromPath[str]) -> Response:
        """Photos of the item (one or several files in the `photo` field)."""
        async def call(rid_int: int, raw: dict) -> str:
            files = raw.get("photo")
            files = [f for f in (files if isinstance(files, list) else [files]) if f is not None and hasattr(f, "read")]
            if not files:
                raise DomainError(_("Please correct the marked fields."), errors={"photo": _("Choose a photo.")})
            for upload in files:
                await photos.add_photo(actor(request), rid_int, upload.filename or "", await upload.read())
            return _("Photos saved.")

        return await self._act(request, rid, "photos", call)

    @get("/photos/{photo_id:int}", name="scrap.photo")
    async def photo(self, request: Request, photo_id: FromPath[int]) -> Response:
        """A verified JPEG/PNG, served with its fixed type, nosniff and a sandbox CSP."""
        row, data = await photos.read_photo(photo_id)
        return Response(content=data, media_type=row["content_type"],
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400",
                                 "Content-Security-Policy": "sandbox; default-src 'none'"})

    @get("/{rid:str}/print", name="scrap.print")
    async def print_record(self, request: Request, rid: FromPath[str]) -> Response:
        """X-01: the A4 scrap record (报废品处理记录) with the appraisers' and approvers' signature lines."""
        rid_int = path_id(rid)
        row = await services.get_request(rid_int)
        if row is None:
            raise DomainError(_("There is nothing at this address."), status=404)
        return render(request, "print/scrap/record.html", **await paper(), r=row, appraisers=await services.appraisers(rid_int),
                      opinions={o["user_id"]: o for o in await services.opinions(rid_int)}, **_ctx())


class ScrapReportsController(Controller):
    """Finance's write-off list and the quality department's monthly batch (separate paths under /scrap/…)."""

    path = "/scrap/reports"
    opt = perm("scrap.finance")

    @get("/writeoffs", name="scrap.writeoffs")
    async def writeoffs(self, request: Request, month: FromQuery[str] = "") -> Response:
        """R-SCR-03: the month's write-offs with totals by reason and supplier."""
        month = _month(month)
        return render(request, "scrap/writeoffs.html", month=month, data=await queries.writeoffs(month), **_ctx())

    @get("/writeoffs.xlsx", name="scrap.writeoffs_xlsx")
    async def writeoffs_xlsx(self, request: Request, month: FromQuery[str] = "") -> Response:
        month = _month(month)
        data = await queries.writeoffs(month)
        rows = [[r["number"], as_date(r["disposed_on"]), r["part_no"], r["part_name"], r["serial"], r["qty"],
                 str(REASON_LABELS.get(r["reason"], r["reason"])), r["supplier"],
                 str(METHOD_LABELS.get(r["disposal_method"], r["disposal_method"])), r["value"], r["disposed_by_name"]]
                for r in data["rows"]]
        rows.append([_("Total"), "", "", "", "", "", "", "", "", data["total"], ""])
        sheets = [
            (_("Write-offs"), [_("Number"), _("Disposed on"), _("Part number"), _("Name"), _("Serial"), _("Quantity"),
                               _("Reason"), _("Supplier"), _("Disposal method"), _("Value (¥)"), _("Disposed by")], rows),
            (_("By reason"), [_("Reason"), _("Value (¥)")],
             [[str(REASON_LABELS.get(k, k)), v] for k, v in data["by_reason"]]),
            (_("By supplier"), [_("Supplier"), _("Value (¥)")], [[k or "—", v] for k, v in data["by_supplier"]]),
        ]
        return xlsx_response(f"scrap-writeoffs-{month}.xlsx", workbook(sheets))

    @get("/quality", name="scrap.quality", opt=perm("scrap.quality"))
    async def quality(self, request: Request, month: FromQuery[str] = "") -> Response:
        """R-SCR-02: the month's quality-problem records, the batch, and the report by supplier."""
        month = _month(month)
        return await self._quality(request, month, {}, "")

    async def _quality(self, request: Request, month: str, errors: dict, message: str, status: int = 200) -> Response:
        user = request.scope["user"]
        return render(request, "scrap/quality.html", status_code=status, month=month, errors=errors, message=message,
                      batch=await batches.batch_for(month), quorum=await services.quorum(),
                      people=await services.appraiser_candidates() if can(user, "scrap.raise") else [], candidates=await queries.quality_candidates(month),
                      report=await queries.quality_report(month), **_ctx())

    @post("/quality", opt=perm("scrap.raise"))
    async def make_batch(self, request: Request) -> Response:
        raw = await form_data(request)
        month = _month(str(raw.get("month", "")))
        try:
            data = parse_or_raise(BatchInput, raw)
            number = await batches.gather(actor(request), data)
        except DomainError as exc:
            return await self._quality(request, month, exc.errors, exc.message, status=exc.status)
        return redirect(request, "/scrap/reports/quality?" + urlencode({"month": data.month}),
                        flash=_("Batch %(number)s gathered.", number=number))

    @post("/quality/convene", opt=perm("scrap.raise"))
    async def convene_batch(self, request: Request) -> Response:
        raw = await form_data(request)
        month = _month(str(raw.get("month", "")))
        try:
            n = await batches.convene_batch(actor(request), month, parse_or_raise(ConveneInput, {**raw, "version": "1"}))
        except DomainError as exc:
            return await self._quality(request, month, exc.errors, exc.message, status=exc.status)
        return redirect(request, "/scrap/reports/quality?" + urlencode({"month": month}),
                        flash=_("The appraisal group is convened for %(n)s records.", n=n))


CONTROLLERS = [ScrapController, ScrapReportsController]
