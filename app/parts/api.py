"""What other domains may use of parts and the stock ledger: reads and commands (issue #10, item 7).

The only module another domain imports from app.parts. Commands join the caller's transaction.
Keep these names stable; add, don't rename."""

from app.parts.services import (  # noqa: F401
    adjust,
    availability_by_model,
    find_units,
    get_location,
    get_part,
    get_unit,
    issue_to,
    location_id,
    move_serial_unit,
    on_hand,
    part_by_no,
    quarantine,
    receive,
    return_stock,
    scrap,
    technician_location,
    stock_by_location,
    transfer,
    units_at,
)
