"""Contracts: QYBS stage, SLA, billing entitlement (R-CUS-02, R-TKT-02)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from app.core.audit.services import Actor, record
from app.core.dates import as_date, parse_date, today
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, Stale, fix, not_found
from app.core.i18n import _
from app.core.money import MoneyError, from_fen, parse_money, to_fen
from app.core.numbers import attach_entity, next_number
from app.core.rows import insert
from app.core.status import move
from app.customers.status import TRANSITIONS
from app.customers.tables import Contract, ContractStageChange
from app.customers.services._common import (
    CONTRACT_TYPES,
    ENTITLEMENT_ORDER,
    STAGES,
    CONTRACT_STATUSES,
    TARIFF_POLICIES,
    _edit,
    plain_text_errors,
)
from app.customers.services._devices import _recompute_device


# --------------------------------------------------------------------------- contracts

@dataclass
class ContractInput:
    contract_type: str = "annual"
    title: str = ""
    start_date: str = ""
    end_date: str = ""
    status: str = "active"
    stage: str = "Q"
    response_hours: str = "1"
    onsite_hours_city: str = "2"
    onsite_hours_suburb: str = "12"
    warranty_months: str = "36"
    tariff_policy: str = "standard"
    amount: str = "0"
    notes: str = ""
    # parsed
    start: dt.date | None = None
    end: dt.date | None = None
    ints: dict[str, int] = field(default_factory=dict)
    amount_fen: int = 0

    def clean(self) -> dict[str, str]:
        """R-CUS-02: type, dates (end ≥ start), SLA hours (R-TKT-05 defaults), warranty months, tariff policy."""
        errors = plain_text_errors(self, ("contract_type", "title", "start_date", "end_date", "status", "stage",
                                          "response_hours", "onsite_hours_city", "onsite_hours_suburb",
                                          "warranty_months", "tariff_policy", "amount", "notes"), multiline=("notes",))
        if errors:
            return errors
        self.title = self.title.strip()
        if self.contract_type not in CONTRACT_TYPES:
            errors["contract_type"] = _("Choose the contract type.")
        if self.status not in CONTRACT_STATUSES:
            errors["status"] = _("Choose a status.")
        if self.stage not in STAGES:
            errors["stage"] = _("Choose a stage.")
        if self.tariff_policy not in TARIFF_POLICIES:
            errors["tariff_policy"] = _("Choose a billing policy.")
        if len(self.title) > 200:
            errors["title"] = _("At most %(n)s characters.", n=200)
        for name in ("start_date", "end_date"):
            try:
                value = parse_date(getattr(self, name))
                if value is None:
                    errors[name] = _("Enter a date (YYYY-MM-DD).")
                setattr(self, "start" if name == "start_date" else "end", value)
            except ValueError:
                errors[name] = _("Enter a date (YYYY-MM-DD).")
        if self.start and self.end and self.end < self.start:
            errors["end_date"] = _("The end date cannot be before the start date.")
        limits = {"response_hours": (1, 720), "onsite_hours_city": (1, 720), "onsite_hours_suburb": (1, 720),
                  "warranty_months": (0, 240)}
        for name, (low, high) in limits.items():
            try:
                value = int(str(getattr(self, name)).strip())
                if not low <= value <= high:
                    raise ValueError
                self.ints[name] = value
            except ValueError:
                errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        try:
            amount = parse_money(self.amount or "0")
            if amount < 0:
                errors["amount"] = _("The amount cannot be negative.")
            self.amount_fen = to_fen(amount)
        except MoneyError:
            errors["amount"] = _("Enter an amount, e.g. 1200.00.")
        return errors

    def public(self) -> dict:
        return {"contract_type": self.contract_type, "title": self.title, "start_date": self.start, "end_date": self.end,
                "status": self.status, "tariff_policy": self.tariff_policy, "amount_fen": self.amount_fen,
                "notes": self.notes, **self.ints}


def contract_state(row: dict, on: dt.date | None = None) -> str:
    """pending / active / expired / terminated (derived from status and dates)."""
    on = on or today()
    if row["status"] == "terminated":
        return "terminated"
    if as_date(row["start_date"]) > on:
        return "pending"
    if as_date(row["end_date"]) < on:
        return "expired"
    return "active"


async def create_contract(actor: Actor, customer_id: int, data: ContractInput) -> int:
    """Side effects: contract row with a gapless number (series `contract`), the first stage-history
    row, audit `contract.created`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        if not await fetch("SELECT id FROM customer WHERE id = {}", customer_id):
            raise not_found(_("No such customer."))
        number = await next_number("contract", entity_type="contract", today=today())
        now = utcnow()
        contract_id = await insert(
            Contract, returning=Contract.id, number=number.formatted, customer_id=customer_id,
            contract_type=data.contract_type, title=data.title, start_date=data.start, end_date=data.end,
            status=data.status, stage=data.stage, response_hours=data.ints["response_hours"],
            onsite_hours_city=data.ints["onsite_hours_city"], onsite_hours_suburb=data.ints["onsite_hours_suburb"],
            warranty_months=data.ints["warranty_months"], tariff_policy=data.tariff_policy, amount_fen=data.amount_fen,
            notes=data.notes, version=1, created_at=now, updated_at=now)
        await attach_entity("contract", number.formatted, contract_id)
        await insert(ContractStageChange, contract_id=contract_id, from_stage="", to_stage=data.stage, note="",
                     user_id=actor.user_id, username=actor.username, changed_at=now)
        await record(actor, "contract.created", "contract", contract_id,
                     after={"number": number.formatted, "customer_id": customer_id, "stage": data.stage, **data.public()})
    return contract_id


async def update_contract(actor: Actor, contract_id: int, data: ContractInput, *, version: int | None = None) -> None:
    """Side effects: contract row (compare-and-set); warranty of its devices recomputed when the
    term changed; audit `contract.updated`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        before = await get_contract(contract_id)
        if before is None:
            raise not_found(_("No such contract."))
        await _edit("contract", contract_id, version, {
            "contract_type": data.contract_type, "title": data.title, "start_date": data.start, "end_date": data.end,
            "status": data.status, **data.ints, "tariff_policy": data.tariff_policy, "amount_fen": data.amount_fen,
            "notes": data.notes},
            _("Someone else changed this contract meanwhile; reload and try again."))
        if before["warranty_months"] != data.ints["warranty_months"]:
            for device in await fetch("SELECT id FROM device WHERE contract_id = {} AND warranty_months IS NULL", contract_id):
                await _recompute_device(device["id"])
        keys = ("contract_type", "title", "start_date", "end_date", "status", "response_hours", "onsite_hours_city",
                "onsite_hours_suburb", "warranty_months", "tariff_policy", "amount_fen", "notes")
        await record(actor, "contract.updated", "contract", contract_id,
                     before={k: before[k] for k in keys}, after=data.public())


async def change_stage(actor: Actor, contract_id: int, to_stage: str, *, note: str = "", version: int | None = None) -> None:
    """R-CUS-02 QYBS stage: compare-and-set on (id, stage, version); the change is kept in
    contract_stage_change (append-only). A stale second click gets 409."""
    if to_stage not in STAGES:
        raise fix(stage=_("Choose a stage."))
    note = note.strip()[:500]
    async with atomic():
        row = await get_contract(contract_id)
        if row is None:
            raise not_found(_("No such contract."))
        if row["stage"] == to_stage:
            raise DomainError(_("The contract is already in this stage."), field="stage", status=409)
        try:
            await move("contract", contract_id, version, TRANSITIONS[f"stage_{to_stage}"], actor=actor, column="stage",
                       note=note, labels=STAGES)
        except Stale as exc:
            raise Stale(exc.current, _("Someone else changed this contract meanwhile; reload and try again.")) from exc
        await insert(ContractStageChange, contract_id=contract_id, from_stage=row["stage"], to_stage=to_stage, note=note,
                     user_id=actor.user_id, username=actor.username, changed_at=utcnow())
        await record(actor, "contract.stage_changed", "contract", contract_id,
                     before={"stage": row["stage"]}, after={"stage": to_stage, "note": note})


async def get_contract(contract_id: int) -> dict | None:
    rows = await fetch("SELECT k.*, c.name AS customer_name FROM contract k JOIN customer c ON c.id = k.customer_id "
                       "WHERE k.id = {}", contract_id)
    if not rows:
        return None
    row = rows[0]
    row["state"] = contract_state(row)
    row["amount"] = from_fen(row["amount_fen"])
    return row


async def contract_history(contract_id: int) -> list[dict]:
    """The contract's stage changes, oldest first; `person` is who changed it (read-only join to app_user)."""
    return await fetch("SELECT h.*, COALESCE(u.full_name, '') AS person FROM contract_stage_change h "
                       "LEFT JOIN app_user u ON u.id = h.user_id WHERE h.contract_id = {} ORDER BY h.id", contract_id)


async def customer_contracts(customer_id: int) -> list[dict]:
    rows = await fetch("SELECT * FROM contract WHERE customer_id = {} ORDER BY end_date DESC, id DESC", customer_id)
    on = today()
    for row in rows:
        row["state"] = contract_state(row, on)
        row["amount"] = from_fen(row["amount_fen"])
    return rows


@dataclass(frozen=True)
class Entitlement:
    """R-TKT-02: the customer's contract status at intake; decides billing."""

    customer_id: int
    status: str  # warranty / annual / per_visit / liaison / none
    contract_id: int | None = None
    contract_number: str = ""
    end_date: dt.date | None = None
    response_hours: int | None = None
    onsite_hours_city: int | None = None
    onsite_hours_suburb: int | None = None
    onsite_hours: int | None = None  # for this customer's area
    warranty_months: int | None = None
    tariff_policy: str = "standard"
    customer_class: str = "retail"
    area: str = "city"
    distance_km: Decimal = Decimal("0")
    contracts: tuple[dict, ...] = ()

    @property
    def label(self) -> str:
        return str(CONTRACT_TYPES.get(self.status, _("No contract")))


async def customer_entitlement(customer_id: int, on: dt.date | None = None) -> Entitlement | None:
    """The active contract that decides billing (order: in warranty, annual, per-visit,
    liaison letter), with its SLA and tariff policy; status 'none' without one.
    None when the customer does not exist."""
    on = on or today()
    customer = await fetch("SELECT id, customer_class, area, distance_km FROM customer WHERE id = {}", customer_id)
    if not customer:
        return None
    c = customer[0]
    rows = await fetch(
        "SELECT * FROM contract WHERE customer_id = {} AND status = 'active' AND start_date <= {} AND end_date >= {} "
        "ORDER BY end_date DESC, id", customer_id, on, on)
    base = dict(customer_id=customer_id, customer_class=c["customer_class"], area=c["area"],
                distance_km=Decimal(str(c["distance_km"])).quantize(Decimal("0.1")))
    if not rows:
        return Entitlement(status="none", **base)
    rows.sort(key=lambda r: ENTITLEMENT_ORDER.index(r["contract_type"]))
    best = rows[0]
    onsite = best["onsite_hours_suburb"] if c["area"] == "suburb" else best["onsite_hours_city"]
    return Entitlement(status=best["contract_type"], contract_id=best["id"], contract_number=best["number"],
                       end_date=as_date(best["end_date"]), response_hours=best["response_hours"],
                       onsite_hours_city=best["onsite_hours_city"], onsite_hours_suburb=best["onsite_hours_suburb"],
                       onsite_hours=onsite, warranty_months=best["warranty_months"], tariff_policy=best["tariff_policy"],
                       contracts=tuple(rows), **base)
