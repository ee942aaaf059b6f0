"""What the parts pages share: labels for codes, the form-refusal helpers, list and label helpers."""

from __future__ import annotations

from types import SimpleNamespace

from app.core.permissions import can

from litestar import Request, Response

from app.core.db import fetch
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.printing import copies as copies_allowed, paper
from app.core.i18n import lazy_gettext as _l
from app.core.web import redirect, render
from app.parts import labels
from app.parts.status import UNIT_LABELS


CATEGORY_LABELS = {"part": _l("Part"), "consumable": _l("Consumable"), "device": _l("Device")}
KIND_LABELS = {
    "central": _l("Central warehouse"), "emergency": _l("Emergency store"), "office": _l("Office store"),
    "technician": _l("Technician stock"), "bench": _l("Bench"), "loaner_pool": _l("Loaner pool"),
    "quarantine": _l("Quarantine"), "customer": _l("At customer"),
}
MOVE_LABELS = {
    "receive": _l("Receive"), "issue": _l("Issue"), "return": _l("Return"), "transfer": _l("Transfer"),
    "quarantine": _l("Quarantine"), "adjust": _l("Adjust"), "loan_out": _l("Loan out"), "loan_back": _l("Loan back"),
    "scrap": _l("Scrap"), "stocktake": _l("Stocktake"), "emergency": _l("Emergency release"),
}
UNIT_STATUS = {str(k): v for k, v in UNIT_LABELS.items()}
DOC_TYPES = {"ticket": _l("Service ticket"), "rma": _l("Return repair (RMA)"), "other": _l("Other document")}
DOC_LABELS = {**DOC_TYPES, "delivery": _l("Supplier delivery note"), "loaner": _l("Spare-replacement notice"),
              "scrap": _l("Scrap record")}


def _ctx() -> dict:
    return {"category_labels": CATEGORY_LABELS, "kind_labels": KIND_LABELS, "move_labels": MOVE_LABELS,
            "unit_status": UNIT_STATUS, "doc_types": DOC_TYPES, "doc_labels": DOC_LABELS}


def _own_form(exc: DomainError) -> DomainError:
    """A refusal the page's own form shows (400/409 with field messages); 403/404 go on to the core handler."""
    if exc.status in (403, 404):
        raise exc
    return exc


def _booked_once(request: Request, url: str) -> Response:
    return redirect(request, url, flash=_("This form was already submitted; it was booked once."), level="info")


async def _labels_page(request: Request, items: list[dict], copies: int | None, title: str) -> Response:
    """Labels on label stock (#12): one label per page of the roll, `copies` of each (at most the setting)."""
    rendered = []
    for item in items:
        try:
            bar = labels.inline(labels.code128_svg(item["code"], height_mm=9))
        except Exception:  # noqa: BLE001 - a code Code 128 cannot carry still gets its QR code
            bar = None
        rendered.append({**item, "bar": bar, "qr": labels.inline(labels.qr_svg(item["code"], scale=3))})
    ctx = await paper()
    n = copies_allowed(copies, ctx["label_page"]["copies_max"])
    return render(request, "print/parts/labels.html", items=[item for item in rendered for _n in range(n)], title=title,
                  copies=n, **ctx)


async def _location_stock(location_id: int, after: str | None, limit: int = 50) -> list[dict]:
    return await fetch(
        "SELECT sl.part_id, sl.on_hand, sl.min_qty, p.part_no, p.name, p.model, p.unit, p.serialised FROM stock_level sl "
        "JOIN part p ON p.id = sl.part_id WHERE sl.location_id = {} AND (sl.on_hand > 0 OR sl.min_qty > 0)"
        + (" AND p.part_no > {}" if after else "") + f" ORDER BY p.part_no LIMIT {limit + 1}",
        location_id, *([after] if after else []))


def _lines(raw: dict, prefix_part: str = "line_part", prefix_qty: str = "line_qty") -> list[tuple[str, str]]:
    parts = raw.get(prefix_part, [])
    qtys = raw.get(prefix_qty, [])
    parts = parts if isinstance(parts, list) else [parts]
    qtys = qtys if isinstance(qtys, list) else [qtys]
    n = max(len(parts), len(qtys))
    parts += [""] * (n - len(parts))
    qtys += [""] * (n - len(qtys))
    return [(str(p), str(q)) for p, q in zip(parts, qtys)]


def _keyed(raw: dict, prefix: str) -> dict[int, str]:
    out = {}
    for key, value in raw.items():
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            out[int(key[len(prefix):])] = value if isinstance(value, str) else " ".join(value)
    return out


_MOVE_COLOURS = {"receive": "green", "issue": "orange", "return": "teal", "quarantine": "red", "adjust": "purple",
                 "stocktake": "purple", "emergency": "pink"}


def present_moves(moves: list[dict], user=None) -> list[SimpleNamespace]:
    """Movement rows as parts/_moves.html shows them, formatted once here (#15): time, kind badge, document
    link — the row template prints plain strings, no filter, gettext or dict literal per cell."""
    from app.core.i18n import format_datetime

    kinds = {code: str(label) for code, label in MOVE_LABELS.items()}
    docs = {code: str(label) for code, label in DOC_LABELS.items()}
    links = {"emergency_release": ("/emergency/", _("Emergency release")),
             "purchase_request": ("/parts/purchases/", _("Purchase request")), "stocktake": ("/parts/stocktakes/", _("Stocktake"))}
    if user is not None and can(user, "rma.view"):  # an issue to a repair links to its RMA (#12), for who may open it
        links["rma"] = ("/bench/", docs.get("rma", "rma"))
    for m in moves:
        m["time"] = format_datetime(m["created_at"], "short")
        m["kind_class"] = "bg-" + _MOVE_COLOURS.get(m["kind"], "blue") + "-lt"
        m["kind_label"] = kinds.get(m["kind"], m["kind"])
        dtype, did = m.get("document_type"), m.get("document_id")
        link = links.get(dtype)
        if link and (dtype not in ("purchase_request", "rma") or did):
            m["doc_url"], m["doc_text"] = f"{link[0]}{did}", f"{link[1]} #{did}"
        else:
            m["doc_url"], m["doc_text"] = None, (f"{docs.get(dtype, dtype)} {did}" if dtype else "")
    # attribute objects, not dicts: Jinja's `m.x` on a dict first fails getattr (an exception per cell)
    return [SimpleNamespace(**m) for m in moves]
