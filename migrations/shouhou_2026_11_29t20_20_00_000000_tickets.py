"""Tickets finish (issue #13): parts reserved at dispatch (R-TKT-04) and the ticket list's indexes.

* `stock_level.reserved` (never negative) and `stock_reservation` (one row per reservation: open, consumed
  or released) — the parts domain owns both; reserving is one conditional UPDATE on the stock level.
* `rma.ticket_number`: the bench intake a ticket's "needs return repair" became (linked both ways, #13 §6);
  the rma domain owns the column, the ticket page reads it through `rma.api.rmas_for_ticket`.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T20:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tickets: parts reservations (parts domain), the ticket number on an RMA (rma domain)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            "ALTER TABLE stock_level ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0 "
            "CONSTRAINT stock_level_reserved_not_negative CHECK (reserved >= 0)",
            """CREATE TABLE stock_reservation ({pk},
                part_id INTEGER NOT NULL REFERENCES part (id),
                location_id INTEGER NOT NULL REFERENCES stock_location (id),
                qty INTEGER NOT NULL CHECK (qty >= 0),
                reserved_qty INTEGER NOT NULL CHECK (reserved_qty > 0),
                document_type VARCHAR(40) NOT NULL,
                document_id VARCHAR(60) NOT NULL,
                status VARCHAR(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'consumed', 'released')),
                created_by INTEGER DEFAULT NULL REFERENCES app_user (id),
                created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                closed_at TIMESTAMPTZ DEFAULT NULL)""",
            "CREATE INDEX stock_reservation_document ON stock_reservation (document_type, document_id, status)",
            "CREATE INDEX stock_reservation_level ON stock_reservation (part_id, location_id, status)",
            "ALTER TABLE rma ADD COLUMN ticket_number VARCHAR(40) NOT NULL DEFAULT ''",
            "CREATE INDEX rma_ticket_number ON rma (ticket_number)",
            # the periodic SLA sweep reads only the deadlines that fell due since its last round (one range per clock)
            "CREATE INDEX ticket_respond_due ON ticket (respond_due)",
            "CREATE INDEX ticket_depart_due ON ticket (depart_due)",
            "CREATE INDEX ticket_onsite_due ON ticket (onsite_due)",
            "CREATE INDEX ticket_fix_due ON ticket (fix_due)",
        )

    manager.add_raw(run)
    return manager
