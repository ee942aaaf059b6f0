"""R-CUS-03: annual maintenance quote from the editable tiered price list (SPEC Appendix 2).

Tier rules (pure functions, tested):
* basis `qty`: the number of units picks the tier (switches: 1–5 ¥400, 6–10 ¥360, 11+ ¥320
  each) and that unit price applies to every unit;
* basis `capacity`: each unit's own size picks its tier (PBX by ports, amplifier by watts).
A tier applies from its `min_value` up to the next tier's `min_value` − 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.core.audit.services import Actor, record
from app.core.db import atomic, fetch
from app.core.errors import Stale, fix, not_found, refused
from app.core.i18n import _, current_locale
from app.core.permissions import can
from app.core.status import update_versioned
from app.customers.services import get_customer
from app.core.money import MoneyError, from_fen, parse_money, to_fen


@dataclass(frozen=True)
class Tier:
    id: int
    min_value: int
    price_fen: int
    note: str = ""
    version: int = 1

    @property
    def price(self) -> Decimal:
        return from_fen(self.price_fen)


@dataclass
class Item:
    id: int
    code: str
    system: str
    name: str
    unit: str
    basis: str
    tiers: list[Tier] = field(default_factory=list)


def pick_tier(tiers: list[Tier], value: int) -> Tier | None:
    """The tier with the largest min_value ≤ value (the lowest tier for values below all)."""
    ordered = sorted(tiers, key=lambda t: t.min_value)
    if not ordered:
        return None
    chosen = ordered[0]
    for tier in ordered:
        if tier.min_value <= value:
            chosen = tier
    return chosen


def tier_range(tiers: list[Tier], tier: Tier) -> tuple[int, int | None]:
    ordered = sorted(tiers, key=lambda t: t.min_value)
    index = ordered.index(tier)
    upper = ordered[index + 1].min_value - 1 if index + 1 < len(ordered) else None
    return tier.min_value, upper


@dataclass(frozen=True)
class QuoteLine:
    item: Item
    quantity: int
    unit_price: Decimal
    tier: Tier
    capacity: int | None = None

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def quote_lines(items: list[Item], quantities: dict[str, int], capacities: dict[str, list[int]]) -> list[QuoteLine]:
    """Lines of the quote: one per qty item with a quantity; per capacity item one line per tier used."""
    lines: list[QuoteLine] = []
    for item in items:
        if item.basis == "capacity":
            groups: dict[int, list[int]] = {}
            for cap in capacities.get(item.code, []):
                tier = pick_tier(item.tiers, cap)
                if tier:
                    groups.setdefault(tier.id, []).append(cap)
            for tier in sorted(item.tiers, key=lambda t: t.min_value):
                caps = groups.get(tier.id)
                if caps:
                    lines.append(QuoteLine(item=item, quantity=len(caps), unit_price=tier.price, tier=tier, capacity=max(caps)))
        else:
            qty = quantities.get(item.code, 0)
            if qty > 0:
                tier = pick_tier(item.tiers, qty)
                if tier:
                    lines.append(QuoteLine(item=item, quantity=qty, unit_price=tier.price, tier=tier))
    return lines


def quote_total(lines: list[QuoteLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


async def price_list() -> list[Item]:
    zh = current_locale() == "zh"
    items = await fetch("SELECT * FROM price_item ORDER BY sort, id")
    tiers = await fetch("SELECT * FROM price_tier ORDER BY item_id, min_value")
    by_item: dict[int, list[Tier]] = {}
    for t in tiers:
        by_item.setdefault(t["item_id"], []).append(Tier(id=t["id"], min_value=t["min_value"], price_fen=int(t["price_fen"]),
                                                         note=t["note"], version=t["version"]))
    return [Item(id=i["id"], code=i["code"], system=i["system"], name=i["name_zh"] if zh else i["name_en"],
                 unit=i["unit_zh"] if zh else i["unit_en"], basis=i["basis"], tiers=by_item.get(i["id"], []))
            for i in items]


async def update_tier(actor: Actor, tier_id: int, *, price: str, note: str, min_value: str, version: int | None = None) -> None:
    """Admin edits one tier (R-CUS-03: the price list is data). Side effects: price_tier row
    (compare-and-set on version); audit `price_tier.updated`."""
    if not can(actor, "customers.price_edit"):
        raise refused(_("Only an administrator edits the price list."))
    errors = {}
    try:
        amount = parse_money(price)
        if amount < 0:
            errors["price"] = _("The amount cannot be negative.")
    except MoneyError:
        errors["price"] = _("Enter an amount, e.g. 1200.00.")
        amount = None
    try:
        minimum = int(str(min_value).strip())
        if minimum < 0:
            raise ValueError
    except ValueError:
        errors["min_value"] = _("Enter a whole number from %(low)s to %(high)s.", low=0, high=100000)
        minimum = None
    note = (note or "").strip()
    if len(note) > 300:
        errors["note"] = _("At most %(n)s characters.", n=300)
    if errors:
        raise fix(**errors)
    async with atomic():
        rows = await fetch("SELECT * FROM price_tier WHERE id = {}", tier_id)
        if not rows:
            raise not_found(_("No such price."))
        before = rows[0]
        clash = await fetch("SELECT id FROM price_tier WHERE item_id = {} AND min_value = {} AND id <> {}",
                            before["item_id"], minimum, tier_id)
        if clash:
            raise fix(min_value=_("Another tier of this item starts at the same value."))
        try:
            await update_versioned("price_tier", tier_id, version,
                                   {"price_fen": to_fen(amount), "note": note, "min_value": minimum})
        except Stale as exc:
            raise Stale(exc.current, _("Someone else changed this price meanwhile; reload and try again.")) from exc
        await record(actor, "price_tier.updated", "price_tier", tier_id,
                     before={"price_fen": before["price_fen"], "note": before["note"], "min_value": before["min_value"]},
                     after={"price_fen": to_fen(amount), "note": note, "min_value": minimum})


async def device_counts(customer_id: int) -> tuple[dict[str, int], dict[str, list[int]]]:
    """The customer's installed devices per price item (device.kind = price_item.code)."""
    rows = await fetch("SELECT kind, COUNT(*) AS n FROM device WHERE customer_id = {} AND kind <> '' GROUP BY kind", customer_id)
    quantities = {r["kind"]: int(r["n"]) for r in rows}
    caps = await fetch("SELECT d.kind, d.capacity FROM device d JOIN price_item p ON p.code = d.kind "
                       "WHERE d.customer_id = {} AND p.basis = 'capacity' ORDER BY d.id", customer_id)
    capacities: dict[str, list[int]] = {}
    for r in caps:
        capacities.setdefault(r["kind"], []).append(int(r["capacity"] or 0))
    return quantities, capacities


def parse_capacities(text: str) -> list[int]:
    values = []
    for part in str(text or "").replace("，", ",").replace(" ", ",").split(","):
        part = part.strip()
        if part:
            value = int(part)
            if value < 0:
                raise ValueError(part)
            values.append(value)
    return values


async def build_quote(customer_id: int, form: dict | None = None) -> dict:
    """Quantities from the form (editable) or, without one, from the customer's devices."""
    customer = await get_customer(customer_id)
    if customer is None:
        raise not_found(_("No such customer."))
    items = await price_list()
    quantities, capacities = await device_counts(customer_id)
    errors: dict[str, str] = {}
    if form:
        quantities, capacities = {}, {}
        for item in items:
            raw = str(form.get(f"q_{item.code}", "") or "").strip()
            try:
                if item.basis == "capacity":
                    capacities[item.code] = parse_capacities(raw)
                else:
                    quantities[item.code] = int(raw) if raw else 0
                    if quantities[item.code] < 0 or quantities[item.code] > 100000:
                        raise ValueError(raw)
            except ValueError:
                errors[f"q_{item.code}"] = _("Enter a whole number (0 or more).")
    lines = quote_lines(items, quantities, capacities) if not errors else []
    inputs = {item.code: (", ".join(str(c) for c in capacities.get(item.code, [])) if item.basis == "capacity"
                          else (quantities.get(item.code) or "")) for item in items}
    return {"customer": customer, "items": items, "lines": lines, "total": quote_total(lines), "inputs": inputs,
            "errors": errors}
