"""What other domains may use of parts and the stock ledger: reads and commands (issue #10, item 7).

The only module another domain imports from app.parts. Commands join the caller's transaction
(inside a SAVEPOINT) and raise core's `DomainError` only: a refused movement is a 409 whose
`current` says why — `is_not_enough_stock(exc)` (with `current["available"]` and in-stock
`current["substitutes"]`) or `is_duplicate_submit(exc)`. Keep these names stable; add, don't rename."""

from app.parts.services import (  # noqa: F401
    adjust,
    availability_by_model,
    available,
    dispatch_stores,
    find_units,
    get_location,
    get_part,
    get_unit,
    has_issued,
    is_duplicate_submit,
    is_not_enough_stock,
    issue_to,
    issue_to_repair,
    issued_to_document,
    location_id,
    move_serial_unit,
    new_token,
    on_hand,
    part_by_no,
    quarantine,
    receive,
    reconcile,
    return_from_repair,
    release_reservations,
    reservations_for,
    reserve,
    return_stock,
    scrap,
    stock_at,
    stock_by_location,
    substitutes_in_stock,
    technician_location,
    transfer,
    units_at,
    use_on_repair,
)
