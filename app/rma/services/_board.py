"""Unboxing photos, the board, lists for panels and the monthly report (R-RMA-08)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from app.core.actor import Actor
from app.core.audit.services import record
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import fix, not_found
from app.core.i18n import _, format_money, tz
from app.core.money import from_fen
from app.core.permissions import require
from app.core.rows import insert
from app.core.settings import setting
import app.parts.api as parts
from app.rma.services._common import CLOCK_STATUSES, OPEN_STATUSES, as_dt, month_day_time, get_quote, get_rma, rules, timeline
from app.rma.services._moves import burn_in_ends, burn_in_left, gate_reason
from app.rma.status import NEXT_ACTION
from app.rma.tables import RmaPhoto

async def _parts_used(rma_id: int) -> list[dict]:
    """The parts booked on this RMA with their number, name and unit (from the parts domain's api)."""
    rows = await fetch("SELECT * FROM rma_part_use WHERE rma_id = {} ORDER BY id", rma_id)
    known: dict[int, dict] = {}
    for row in rows:
        if row["part_id"] not in known:
            known[row["part_id"]] = await parts.get_part(row["part_id"]) or {}
        part = known[row["part_id"]]
        row.update(part_no=part.get("part_no", ""), part_name=part.get("name", ""), unit=part.get("unit", ""),
                   cost_fen=int(part.get("cost_fen") or 0) * int(row["qty"]))
        row["cost"] = from_fen(row["cost_fen"])
    return rows


async def _names(usernames: set[str]) -> dict[str, str]:
    """People's names for usernames (X-04: pages show names, never usernames); the shared user table, read only."""
    names = {u: u for u in usernames if u}
    if names:
        rows = await fetch("SELECT username, full_name FROM app_user WHERE username IN ("
                           + ", ".join("{}" for _u in names) + ")", *names)
        names.update({r["username"]: r["full_name"] for r in rows if r["full_name"]})
    return names


async def events(rma_id: int, transitions: list[dict], quote: dict | None) -> list[dict]:
    """The RMA's timeline: its stage moves and the out-of-warranty steps (costed, quoted, the customer's answer,
    paid — R-RMA-04), oldest first, each with who (a person's name) and when."""
    out = [{"at": as_dt(t["created_at"]), "label": None, "to_status": t["to_status"], "from_status": t["from_status"],
            "user": t["username"], "note": t["note"], "kind": "move"} for t in transitions]
    if quote:
        steps = [("costed", quote["costed_at"], quote["costed_by"], _("Fault and cost entered: %(amount)s",
                                                                      amount=format_money(quote["amount"]))),
                 ("quoted", quote["quoted_at"], quote["quoted_by"], _("Quote sent to the customer")),
                 ("decided", quote["decided_at"], quote["decided_by"],
                  _("Customer accepted the quote") if quote["status"] == "accepted" else _("Customer declined the quote")),
                 ("paid", quote["paid_at"], quote["paid_by"], _("Payment recorded"))]
        for kind, at, who, label in steps:
            if at:
                note = quote["decision_note"] if kind == "decided" else (quote["fault"] if kind == "costed" else "")
                out.append({"at": as_dt(at), "label": label, "to_status": "", "from_status": "", "user": who,
                            "note": note, "kind": kind})
    names = await _names({e["user"] for e in out})
    for e in out:
        e["who"] = names.get(e["user"], e["user"])
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return sorted(out, key=lambda e: e["at"] or epoch)


async def detail_extras(rma_id: int) -> dict:
    """Everything the detail page shows besides the RMA row; `names` maps the usernames stored on its rows to
    people's names (X-04)."""
    transitions = await timeline(rma_id)
    quote = await get_quote(rma_id)
    extras = {
        "transitions": transitions,
        "events": await events(rma_id, transitions, quote),
        "slip": (await fetch("SELECT * FROM rma_exception_slip WHERE rma_id = {}", rma_id) or [None])[0],
        "quote": quote,
        "replacement": (await fetch("SELECT * FROM rma_replacement WHERE rma_id = {}", rma_id) or [None])[0],
        "handovers": await fetch("SELECT * FROM rma_handover WHERE rma_id = {} ORDER BY id", rma_id),
        "consultations": await fetch("SELECT * FROM rma_consultation WHERE rma_id = {} ORDER BY id", rma_id),
        "parts": await _parts_used(rma_id),
        "issued": await parts.issued_to_document("rma", rma_id),  # issued by the keeper, not yet used (#12 item 2)
        "callback": (await fetch("SELECT * FROM rma_callback WHERE rma_id = {}", rma_id) or [None])[0],
        "photo_rows": await photos(rma_id),
    }
    users = {quote[k] for k in ("costed_by", "quoted_by", "decided_by", "paid_by")} if quote else set()
    users |= {extras["replacement"]["decided_by"]} if extras["replacement"] else set()
    users |= {x["username"] for x in extras["consultations"]} | {p["username"] for p in extras["parts"]}
    users |= {h["from_name"] for h in extras["handovers"]} | {h["to_name"] for h in extras["handovers"]}
    users |= {extras["callback"]["done_by"]} if extras["callback"] else set()
    users |= {extras["slip"]["username"]} if extras["slip"] else set()
    users |= {r["technician_name"] for r in await fetch("SELECT technician_name FROM rma WHERE id = {}", rma_id)}
    extras["names"] = await _names({u for u in users if u})
    extras["parts_cost"] = from_fen(sum(p["cost_fen"] for p in extras["parts"]))  # Decimal, shown with |money
    return extras


from app.core.uploads import MARKUP  # noqa: E402

PHOTO_TYPES = {"jpg": ("image/jpeg", b"\xff\xd8\xff"), "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
               "png": ("image/png", b"\x89PNG\r\n\x1a\n")}


def photo_dir() -> "Path":
    import os
    from pathlib import Path

    from app.core.config import BASE_DIR

    root = Path(os.environ.get("SHOUHOU_UPLOAD_DIR") or (BASE_DIR / "var" / "uploads"))
    path = root / "rma"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def check_photo(filename: str, data: bytes) -> tuple[str, str, str]:
    """A JPEG or PNG whose extension and first bytes agree, within `rma.photo_max_mb`: (name, ext, content type);
    else a field error on `photo`. Checked before anything is written (the intake form checks every photo first)."""
    name = (filename or "").strip().replace("\\", "/").split("/")[-1][:200]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not data:
        raise fix(photo=_("Choose a photo."))
    if ext not in PHOTO_TYPES:
        raise fix(photo=_("Photos are JPEG or PNG files."))
    content_type, magic = PHOTO_TYPES[ext]
    if not data.startswith(magic) or MARKUP.search(data):  # a PNG/HTML polyglot is not a photo (#11.10)
        raise fix(photo=_("This file is not a JPEG or PNG image."))
    limit = await setting("rma.photo_max_mb")
    if len(data) > limit * 1024 * 1024:
        raise fix(photo=_("At most %(n)s MB per photo.", n=limit))
    return name, ext, content_type


async def add_photo(actor: Actor, rma_id: int, filename: str, data: bytes) -> int:
    """A JPEG or PNG of the unit as unpacked: the extension and the file's first bytes must agree;
    stored under a random name (the original name is data only). Side effects: file, rma_photo row, audit."""
    import secrets

    require(actor, "rma.receive")
    name, ext, content_type = await check_photo(filename, data)
    if await get_rma(rma_id) is None:
        raise not_found(_("No such return."))
    stored = f"{secrets.token_hex(16)}.{'jpg' if ext == 'jpeg' else ext}"
    path = photo_dir() / stored
    path.write_bytes(data)
    try:
        async with write_transaction():
            photo_id = await insert(RmaPhoto, returning=RmaPhoto.id, rma_id=rma_id, stored_name=stored, original_name=name,
                                    content_type=content_type, size=len(data), username=actor.username, created_at=utcnow())
            await record(actor, "rma.photo_added", "rma", rma_id, after={"photo": name, "size": len(data)})
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return photo_id


async def photos(rma_id: int) -> list[dict]:
    return await fetch("SELECT * FROM rma_photo WHERE rma_id = {} ORDER BY id", rma_id)


async def get_photo(photo_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM rma_photo WHERE id = {}", photo_id)
    return rows[0] if rows else None


@dataclass
class Card:
    row: dict
    age_days: float
    clock_left_h: float | None = None  # R-RMA-03: hours left of the repair window (negative = breached)
    burn_in_left_h: float | None = None
    ship_overdue: bool = False
    late: bool = False
    next_action: str = ""
    flags: list[str] = field(default_factory=list)
    blocked: str = ""  # why the rule would refuse next_action now, in words (the button is shown disabled)
    waiting_customer_since: dt.datetime | None = None  # R-RMA-04: the repair clock is paused from the quote on
    # Shown values formatted once here (not through filters per cell); with `blocked` they are what changes with
    # the clock alone, so they are part of the card's cache key (app/rma/board_cards.py).
    age_text: str = ""  # days since received, one decimal
    clock_h: int | None = None  # repair window: whole hours left (negative = over by)
    burn_in_h: float | None = None  # burn-in hours left, one decimal

    @property
    def received_label(self) -> str:
        """Only a card rendered afresh needs it (a cached card's key holds received_at through its row)."""
        received = as_dt(self.row["received_at"])
        return month_day_time(received.astimezone(_TZ)) if received else ""

    def live(self) -> tuple:
        """What the card shows that moves with time alone (no write, no new version)."""
        clock = None if self.clock_left_h is None else (self.clock_h, self.clock_left_h < 0, self.clock_left_h < 24)
        burn = None if self.burn_in_left_h is None else (self.burn_in_h, self.burn_in_left_h > 0)
        return (self.age_text, clock, burn, self.ship_overdue, self.late, self.blocked, self.next_action,
                self.waiting_customer_since)


def repair_deadline(row: dict, days: int) -> tuple[dt.datetime | None, dt.datetime | None]:
    """R-RMA-03 with R-RMA-04: (the end of the repair window, since when it is paused). The window runs from QC;
    for an out-of-warranty unit it stops while the customer decides and pays (from the quote being sent to the
    payment) and is extended by that time once paid. Needs qc_at, in_warranty, quote_quoted_at, quote_paid_at."""
    qc_at = as_dt(row.get("qc_at"))
    if qc_at is None:
        return None, None
    deadline = qc_at + dt.timedelta(days=days)
    quoted = as_dt(row.get("quote_quoted_at"))
    if row.get("in_warranty") or quoted is None:
        return deadline, None
    paid = as_dt(row.get("quote_paid_at"))
    if paid is None:
        return deadline, quoted
    return deadline + max(paid - quoted, dt.timedelta(0)), None


def make_card(row: dict, now: dt.datetime, rule: dict[str, int]) -> Card:
    received = as_dt(row["received_at"]) or now
    card = Card(row=row, age_days=(now - received).total_seconds() / 86400, next_action=NEXT_ACTION.get(row["status"], ""))
    if row["status"] in CLOCK_STATUSES:
        deadline, paused_since = repair_deadline(row, rule["repair_days"])
        if paused_since is not None:
            card.waiting_customer_since = paused_since
        elif deadline is not None:
            card.clock_left_h = (deadline - now).total_seconds() / 3600
    if row["status"] == "burn_in":
        ends = burn_in_ends(row)
        if ends:
            card.burn_in_left_h = (ends - now).total_seconds() / 3600
    completed = as_dt(row.get("completed_at"))
    if row["status"] == "ready_to_ship" and completed:
        card.ship_overdue = now > completed + dt.timedelta(days=rule["ship_days"])
    if row["status"] == "waiting" and row.get("quote_status") == "declined":
        card.next_action = "ship-unrepaired"  # R-RMA-04: declined → back unrepaired
    elif row["status"] == "waiting":  # R-RMA-04: the quote, the answer and the payment come first (detail page)
        card.blocked = gate_reason(bool(row["in_warranty"]), row.get("quote_status"),
                                   row.get("receivable_open") is not None and not row.get("receivable_open")) or ""
    elif row["status"] == "burn_in":  # R-RMA-06: the final test waits for the burn-in hours
        card.blocked = burn_in_left(row, now) or ""
    card.late = card.ship_overdue or (card.clock_left_h is not None and card.clock_left_h < 0)
    card.age_text = f"{card.age_days:.1f}"
    card.clock_h = None if card.clock_left_h is None else int(round(card.clock_left_h))
    card.burn_in_h = None if card.burn_in_left_h is None else round(card.burn_in_left_h, 1)
    return card


_TZ = tz()


# Only what a card shows or its clocks need (each column read costs on a few hundred rows per board).
CARD_COLUMNS = ("r.id, r.number, r.status, r.version, r.serial, r.model, r.customer_name, r.region, r.in_warranty, "
                "r.fault_code, COALESCE(NULLIF(tu.full_name, ''), r.technician_name) AS technician_name, r.rework_count, r.received_at, r.qc_at, "
                "r.burn_in_hours, r.burn_in_started_at, r.completed_at, "
                "r.replacement_proposed, x.status AS replacement_status, q.status AS quote_status, rv.is_open AS receivable_open, "
                "q.quoted_at AS quote_quoted_at, q.paid_at AS quote_paid_at")


_JOINS = ("FROM rma r LEFT JOIN rma_replacement x ON x.rma_id = r.id LEFT JOIN rma_quote q ON q.rma_id = r.id "
          "LEFT JOIN receivable rv ON rv.id = q.receivable_id LEFT JOIN app_user tu ON tu.id = r.technician_id")


async def cards_per_column() -> int:
    """How many cards each stage shows before its "more" button (`rma.board_cards_per_column`)."""
    return max(1, int(await setting("rma.board_cards_per_column")))


async def board(*, technician_id: int | None = None, per_column: int | None = None, now: dt.datetime | None = None) -> dict:
    """The board in a constant number of queries: counts per stage, then the first `per_column`
    cards of every stage in FIFO order (R-RMA-02), whatever the number of cards. The counts are exact: one
    grouped COUNT over the open RMAs (the open set is small — a few hundred units — so it is cheap)."""
    now = now or utcnow()
    rule = await rules()
    per_column = per_column or await cards_per_column()
    where, args = "r.status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")", []
    if technician_id:
        where += " AND r.technician_id = {}"
        args.append(technician_id)
    counts_rows = await fetch(f"SELECT r.status, COUNT(*) AS n FROM rma r WHERE {where} GROUP BY r.status", *args)
    counts = {s: 0 for s in OPEN_STATUSES}
    counts.update({r["status"]: int(r["n"]) for r in counts_rows})
    # The first cards of each stage straight off the (status, received_at, id) index, one branch per stage, then
    # the joins for those cards only (a window over every open card read and joined them all: ~50x slower).
    tech_sql = " AND technician_id = {}" if technician_id else ""
    firsts = " UNION ALL ".join(
        f"SELECT id FROM (SELECT id FROM rma WHERE status = '{s}'{tech_sql} ORDER BY received_at, id "
        f"LIMIT {int(per_column)}) AS f{i}" for i, s in enumerate(OPEN_STATUSES))
    rows = await fetch(f"SELECT {CARD_COLUMNS} {_JOINS} WHERE r.id IN ({firsts}) ORDER BY r.received_at, r.id",
                       *(args * len(OPEN_STATUSES)))
    columns: dict[str, list[Card]] = {s: [] for s in OPEN_STATUSES}
    for row in rows:
        columns[row["status"]].append(make_card(row, now, rule))
    return {"counts": counts, "columns": columns, "rules": rule, "per_column": per_column}


async def column(status: str, *, technician_id: int | None = None, per_column: int | None = None,
                 after: int | None = None, skip: int | None = None) -> tuple[list[Card], int]:
    """One stage's cards in FIFO order (R-RMA-02) and how many are left from the first of them on: the first
    `per_column` (the out-of-band swap after a card moves in), or with `after` (an RMA id) the next slice after
    that card — a keyset on the column's sort key (received_at, id), so a card moving meanwhile never shifts
    the slice. The count query is over the open set (small)."""
    if status not in OPEN_STATUSES:
        return [], 0
    now, rule = utcnow(), await rules()
    per_column = per_column or await cards_per_column()
    where, args = "r.status = {}", [status]
    if technician_id:
        where += " AND r.technician_id = {}"
        args.append(technician_id)
    if after:
        where += (" AND (r.received_at > (SELECT a.received_at FROM rma a WHERE a.id = {}) OR (r.received_at = "
                  "(SELECT a.received_at FROM rma a WHERE a.id = {}) AND r.id > {}))")
        args += [after, after, after]
    if skip:  # the card a scan opened, shown on top of the board already
        where += " AND r.id <> {}"
        args.append(skip)
    rows = await fetch(f"SELECT {CARD_COLUMNS} {_JOINS} WHERE {where} ORDER BY r.received_at, r.id LIMIT {int(per_column)}", *args)
    count = await fetch(f"SELECT COUNT(*) AS n FROM rma r WHERE {where}", *args)
    return [make_card(r, now, rule) for r in rows], int(count[0]["n"])


async def card(rma_id: int, *, now: dt.datetime | None = None) -> Card | None:
    rows = await fetch(
        f"SELECT {CARD_COLUMNS} FROM rma r LEFT JOIN rma_replacement x ON x.rma_id = r.id "
        "LEFT JOIN rma_quote q ON q.rma_id = r.id LEFT JOIN receivable rv ON rv.id = q.receivable_id LEFT JOIN app_user tu ON tu.id = r.technician_id WHERE r.id = {}", rma_id)
    return make_card(rows[0], now or utcnow(), await rules()) if rows else None


async def count_of(status: str, technician_id: int | None = None) -> int:
    sql, args = "SELECT COUNT(*) AS n FROM rma WHERE status = {}", [status]
    if technician_id:
        sql += " AND technician_id = {}"
        args.append(technician_id)
    return int((await fetch(sql, *args))[0]["n"])


async def overdue_repairs(limit: int = 100, technician_id: int | None = None, *,
                          now: dt.datetime | None = None) -> list[dict]:
    """R-RMA-03: units in the to-repair area or on the bench past the repair window (a unit exactly
    `rma.repair_days` after QC is still inside it; one second later it is past)."""
    rule = await rules()
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=rule["repair_days"])
    sql = ("SELECT r.id, r.number, r.serial, r.model, r.customer_name, r.status, r.qc_at, "
           "COALESCE(NULLIF(tu.full_name, ''), r.technician_name) AS technician_name, "
           "r.in_warranty, q.quoted_at AS quote_quoted_at, q.paid_at AS quote_paid_at FROM rma r "
           "LEFT JOIN rma_quote q ON q.rma_id = r.id LEFT JOIN app_user tu ON tu.id = r.technician_id "
           "WHERE r.status IN ('waiting', 'repairing') AND r.qc_at IS NOT NULL AND r.qc_at < {}")
    args: list[Any] = [cutoff]
    if technician_id:
        sql += " AND r.technician_id = {}"
        args.append(technician_id)
    rows = await fetch(sql + f" ORDER BY r.qc_at, r.id LIMIT {int(limit) + 1000}", *args)
    late = []
    for row in rows:  # a window paused for the customer (R-RMA-04) ends later, or not yet
        deadline, paused = repair_deadline(row, rule["repair_days"])
        if paused is None and deadline is not None and now > deadline:
            late.append(row)
    return late[:int(limit)]


async def overdue_shipments(limit: int = 100, *, now: dt.datetime | None = None) -> list[dict]:
    """R-RMA-06: completed units still in the building more than `rma.ship_days` after completion
    (exactly `rma.ship_days` is still on time; one second later it is overdue)."""
    rule = await rules()
    cutoff = (now or utcnow()) - dt.timedelta(days=rule["ship_days"])
    return await fetch(
        "SELECT id, number, serial, model, customer_name, completed_at, outcome FROM rma WHERE status = 'ready_to_ship' "
        f"AND completed_at < {{}} ORDER BY completed_at, id LIMIT {int(limit)}", cutoff)


async def quotes_to_send(limit: int = 50) -> list[dict]:
    return await fetch(
        "SELECT r.id, r.number, r.customer_name, q.status, q.amount_fen FROM rma_quote q JOIN rma r ON r.id = q.rma_id "
        f"WHERE q.status IN ('costed', 'quoted') ORDER BY q.costed_at, q.id LIMIT {int(limit)}")


async def callbacks_due(limit: int = 50) -> list[dict]:
    return await fetch(
        "SELECT r.id, r.number, r.customer_name, c.due_at FROM rma_callback c JOIN rma r ON r.id = c.rma_id "
        f"WHERE c.status = 'open' AND r.status = 'delivered' ORDER BY c.due_at LIMIT {int(limit)}")


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """'2026-11' → [start, end) in UTC for the business time zone's calendar month."""
    year, mon = (int(x) for x in month.split("-"))
    start = dt.datetime(year, mon, 1, tzinfo=tz())
    end = dt.datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=tz())
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
    return ordered[k]


async def monthly_report(month: str) -> dict:
    """R-RMA-08: returns received by region; units completed in the month: repaired vs not,
    turnaround (days from receipt to completion, median and 90th percentile), rework rate;
    parts used by supplier with how many of those repairs needed rework (quality signal)."""
    start, end = month_bounds(month)
    by_region = await fetch(
        "SELECT CASE WHEN region = '' THEN '—' ELSE region END AS region, COUNT(*) AS received, "
        "SUM(CASE WHEN in_warranty THEN 1 ELSE 0 END) AS in_warranty "
        "FROM rma WHERE received_at >= {} AND received_at < {} GROUP BY 1 ORDER BY 2 DESC, 1", start, end)
    done = await fetch(
        "SELECT id, region, outcome, received_at, completed_at, rework_count FROM rma "
        "WHERE completed_at >= {} AND completed_at < {}", start, end)
    regions: dict[str, dict] = {}
    for row in by_region:
        regions[row["region"]] = {"region": row["region"], "received": int(row["received"]),
                                  "in_warranty": int(row["in_warranty"] or 0), "repaired": 0, "unrepaired": 0}
    turnaround, reworked = [], 0
    outcome_counts = {"repaired": 0, "replaced": 0, "unrepaired": 0}
    for row in done:
        key = row["region"] or "—"
        bucket = regions.setdefault(key, {"region": key, "received": 0, "in_warranty": 0, "repaired": 0, "unrepaired": 0})
        if row["outcome"] in ("repaired", "replaced"):
            bucket["repaired"] += 1
        else:
            bucket["unrepaired"] += 1
        outcome_counts[row["outcome"] or "unrepaired"] = outcome_counts.get(row["outcome"] or "unrepaired", 0) + 1
        received, completed = as_dt(row["received_at"]), as_dt(row["completed_at"])
        if received and completed:
            turnaround.append((completed - received).total_seconds() / 86400)
        if int(row["rework_count"] or 0) > 0:
            reworked += 1
    suppliers = await fetch(
        "SELECT CASE WHEN p.supplier = '' THEN '—' ELSE p.supplier END AS supplier, COUNT(DISTINCT u.rma_id) AS repairs, "
        "SUM(u.qty) AS parts, COUNT(DISTINCT CASE WHEN r.rework_count > 0 THEN u.rma_id END) AS reworked "
        "FROM rma_part_use u JOIN part p ON p.id = u.part_id JOIN rma r ON r.id = u.rma_id "
        "WHERE u.created_at >= {} AND u.created_at < {} GROUP BY 1 ORDER BY 4 DESC, 2 DESC", start, end)
    for row in suppliers:
        repairs = int(row["repairs"] or 0)
        row["rework_rate"] = (int(row["reworked"] or 0) / repairs) if repairs else 0.0
    total_done = len(done)
    return {
        "month": month,
        "regions": sorted(regions.values(), key=lambda r: (-r["received"], r["region"])),
        "received": sum(r["received"] for r in regions.values()),
        "completed": total_done,
        "outcomes": outcome_counts,
        "median_days": statistics.median(turnaround) if turnaround else None,
        "p90_days": percentile(turnaround, 90),
        "rework_rate": (reworked / total_done) if total_done else 0.0,
        "reworked": reworked,
        "suppliers": suppliers,
    }


def report_chart(report: dict, width: int = 640, bar_h: int = 22) -> dict:
    """Geometry for the inline SVG: one row per region, received vs repaired vs not."""
    rows = report["regions"][:15]
    top = max([max(r["received"], r["repaired"] + r["unrepaired"]) for r in rows] or [1]) or 1
    label_w, scale = 140, (width - 160) / top
    bars = []
    for i, r in enumerate(rows):
        y = 10 + i * (bar_h * 2 + 8)
        bars.append({"y": y, "label": r["region"], "received": r["received"], "w_received": r["received"] * scale,
                     "repaired": r["repaired"], "w_repaired": r["repaired"] * scale, "unrepaired": r["unrepaired"],
                     "w_unrepaired": r["unrepaired"] * scale})
    return {"width": width, "height": 20 + len(rows) * (bar_h * 2 + 8), "label_w": label_w, "bar_h": bar_h, "bars": bars}
