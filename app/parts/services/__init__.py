"""Spare parts: the stock ledger and its service API (R-INV-01…04).

Other domains move stock only through the functions here:

    from app.parts import services as parts
    await parts.issue_to(actor, part_id, 1, "BENCH", "rma", rma_id, check_roles=False)
    await parts.move_serial_unit(actor, "SN123", "CUSTOMER", kind="loan_out", document_type="loaner", document_id=7)
    await parts.transfer(actor, part_id, 2, "CENTRAL", tech_location_id)
    await parts.receive(actor, part_id, 3, "CENTRAL", document_type="purchase_request", document_id=5)
    await parts.scrap(actor, part_id, 1, scrap_id, serial="SN9")   # from QUARANTINE once approved

* Locations are given as an id or a code: CENTRAL, EMERGENCY, BENCH, LOANER (the loaner
  pool), QUARANTINE, CUSTOMER ("at customer") always exist; office and technician stores
  are rows of `stock_location` (`technician_location(user_id)` finds or makes one).
* Every function owns its transaction, and joins the caller's `write_transaction()`
  when there is one (inside a SAVEPOINT, so a refused movement leaves the caller's
  transaction usable: catch the 409 `DomainError` (`is_not_enough_stock(exc)`; its `current` holds
  `available` and in-stock `substitutes`) and offer a substitute).
* R-INV-03: each movement is one append-only `stock_move` row (`from`/`to` NULL means
  outside the stock: a supplier, a ticket or repair that consumed the part, a write-off);
  on-hand per (part, location) changes in the same transaction by one conditional
  `UPDATE … WHERE on_hand >= q RETURNING` (the database refuses negatives as well).
* Serialised parts move one unit at a time (qty 1, `serial=`); the unit's location is a
  compare-and-set, so two keepers moving the same unit at once → one wins, one 409.
* Permission `parts.move` (warehouse, manager, gm) moves stock. A domain that has already
  authorised its own user (bench consuming parts into an RMA) passes `check_roles=False`.
* `token=`: a one-time form token; the same token booked twice raises a 409 `DomainError`
  (`is_duplicate_submit(exc)`).
"""

from __future__ import annotations

# One package, four modules (issue #10, item 9: no module over ~600 lines); every name stays reachable
# as `app.parts.services.<name>` (seeds, tests and the not-yet-migrated callers use it).
from app.parts.schemas import MoveInput, PartInput  # noqa: F401
from app.parts.services._base import (  # noqa: F401
    SYSTEM_CODES,
    KINDS,
    _EMERGENCY_EXEMPT,
    _emergency_release,
    Location,
    MAX_QTY,
    MAX_INSTALLED,
    over_limit,
    not_enough_stock,
    is_not_enough_stock,
    duplicate_submit,
    is_duplicate_submit,
    Move,
    require_perm,
    claim_token,
    new_token,
    get_part,
    part_by_no,
    _part,
    get_location,
    location_id,
    _location,
    list_locations,
    technician_location,
    find_units,
    get_unit,
    _unit,
    on_hand,
    substitutes_in_stock,
)
from app.parts.services._ledger import (  # noqa: F401
    _qty,
    _unit_status,
    _take,
    _put,
    _book,
    _prepare,
    issue_to,
    return_stock,
    transfer,
    quarantine,
    move_serial_unit,
    receive,
    new_unit,
    adjust,
    scrap,
    emergency_release,
)
from app.parts.services._retry import ATTEMPTS, busy, is_conflict, retrying, retry_conflicts  # noqa: F401
from app.parts.services._catalogue import (  # noqa: F401
    stock_by_location,
    recent_moves,
    _LEDGER_SUM,
    reconcile,
    _validate_part,
    _set_substitutes,
    create_part,
    update_part,
    part_substitutes,
    search_parts,
    lookup,
)
from app.parts.services._reserve import (  # noqa: F401
    RESERVATION_BLIND,
    available,
    consume_reservation,
    dispatch_stores,
    release_reservations,
    reservations_for,
    reserve,
    stock_at,
)
from app.parts.services._stock import (  # noqa: F401
    create_location,
    set_keeper,
    min_stock_percent,
    default_minimum,
    set_minimum,
    reorder_list,
    reorder_count,
    FORM_KINDS,
    book_form,
    _receive_against_request,
    units_at,
    availability_by_model,
    _installed_counts,
    recompute_minimums,
)
from app.parts.services._repair import (  # noqa: F401
    REPAIR_PREFIX,
    has_issued,
    issue_to_repair,
    issued_to_document,
    repair_location,
    return_from_repair,
    use_on_repair,
)
