"""Return repair — the bench (issue #5, R-RMA-01…08).

* `rma`: one returned unit; `status` + `version` are the compare-and-set pair every
  transition updates with one `UPDATE … WHERE id AND status AND version RETURNING`.
* `rma_transition`: who/when/from/to of every stage change (append-only); UNIQUE
  (rma_id, version) so a transition can never be written twice for one version.
* `rma_exception_slip` (异常处理单, numbered YC-…), `rma_quote` (out of warranty, R-RMA-04),
  `rma_replacement` (R-RMA-03, UNIQUE per RMA: exactly one application), `rma_handover`
  (R-RMA-07), `rma_consultation` (R-RMA-05), `rma_part_use` (parts consumed from BENCH),
  `rma_callback` (R-CB-01 to-do created on ship), `rma_burn_in` (hours per model).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rma: return-repair pipeline, transitions, exception slips, quotes, replacements, callbacks"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"
TSN = "TIMESTAMPTZ DEFAULT NULL"

STATUSES = ("received", "inspected", "registered", "waiting", "repairing", "repaired", "burn_in",
            "ready_to_ship", "shipped", "delivered", "called_back", "closed")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        sqlite = ddl.dialect() == "sqlite"
        big = "INTEGER" if sqlite else "BIGINT"
        statuses = ", ".join(f"'{s}'" for s in STATUSES)
        await ddl.run(
            f"""CREATE TABLE rma ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                status VARCHAR(20) NOT NULL DEFAULT 'received' CHECK (status IN ({statuses})),
                version INTEGER NOT NULL DEFAULT 1,
                device_id INTEGER DEFAULT NULL REFERENCES device (id),
                customer_id INTEGER DEFAULT NULL REFERENCES customer (id),
                office_id INTEGER DEFAULT NULL,
                region VARCHAR(100) NOT NULL DEFAULT '',
                serial VARCHAR(80) NOT NULL,
                model VARCHAR(100) NOT NULL DEFAULT '',
                product_name VARCHAR(200) NOT NULL DEFAULT '',
                customer_name VARCHAR(200) NOT NULL DEFAULT '',
                contact_phone VARCHAR(40) NOT NULL DEFAULT '',
                address VARCHAR(300) NOT NULL DEFAULT '',
                in_warranty BOOLEAN NOT NULL DEFAULT true,
                warranty_end DATE DEFAULT NULL,
                fault_reported VARCHAR(1000) NOT NULL DEFAULT '',
                appearance VARCHAR(10) NOT NULL DEFAULT '' CHECK (appearance IN ('', 'ok', 'damaged')),
                accessories VARCHAR(300) NOT NULL DEFAULT '',
                photos VARCHAR(500) NOT NULL DEFAULT '',
                damage_call VARCHAR(500) NOT NULL DEFAULT '',
                damage_cause VARCHAR(500) NOT NULL DEFAULT '',
                confirm_note VARCHAR(500) NOT NULL DEFAULT '',
                fault_code VARCHAR(60) NOT NULL DEFAULT '',
                fault_found VARCHAR(1000) NOT NULL DEFAULT '',
                exception_number VARCHAR(40) NOT NULL DEFAULT '',
                replacement_proposed BOOLEAN NOT NULL DEFAULT false,
                technician_id INTEGER DEFAULT NULL,
                technician_name VARCHAR(100) NOT NULL DEFAULT '',
                burn_in_hours INTEGER NOT NULL DEFAULT 0 CHECK (burn_in_hours >= 0),
                burn_in_started_at {TSN},
                rework_count INTEGER NOT NULL DEFAULT 0 CHECK (rework_count >= 0),
                outcome VARCHAR(12) NOT NULL DEFAULT '' CHECK (outcome IN ('', 'repaired', 'unrepaired', 'replaced')),
                carrier VARCHAR(60) NOT NULL DEFAULT '',
                tracking_no VARCHAR(60) NOT NULL DEFAULT '',
                customer_told_on DATE DEFAULT NULL,
                delivered_on DATE DEFAULT NULL,
                received_at {TS},
                qc_at {TSN},
                repaired_at {TSN},
                completed_at {TSN},
                shipped_at {TSN},
                closed_at {TSN},
                moved_at {TS},
                moved_by VARCHAR(100) NOT NULL DEFAULT '',
                created_by INTEGER DEFAULT NULL,
                created_at {TS}, updated_at {TS})""",
            # the board: open cards per stage in FIFO order; technician filter; serial scan; report by month
            "CREATE INDEX rma_status_fifo ON rma (status, received_at, id)",
            "CREATE INDEX rma_technician ON rma (technician_id, status)",
            "CREATE INDEX rma_serial ON rma (serial, id)",
            "CREATE INDEX rma_received ON rma (received_at)",
            "CREATE INDEX rma_completed ON rma (completed_at)",
            "CREATE INDEX rma_device ON rma (device_id)",
            f"""CREATE TABLE rma_transition ({{pk}},
                rma_id INTEGER NOT NULL REFERENCES rma (id),
                version INTEGER NOT NULL,
                from_status VARCHAR(20) NOT NULL DEFAULT '',
                to_status VARCHAR(20) NOT NULL,
                action VARCHAR(30) NOT NULL DEFAULT '',
                note VARCHAR(1000) NOT NULL DEFAULT '',
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX rma_transition_version ON rma_transition (rma_id, version)",
            *ddl.append_only("rma_transition"),
            f"""CREATE TABLE rma_exception_slip ({{pk}},
                rma_id INTEGER NOT NULL UNIQUE REFERENCES rma (id),
                number VARCHAR(40) NOT NULL UNIQUE,
                fault_code VARCHAR(60) NOT NULL DEFAULT '',
                fault_confirmed VARCHAR(1000) NOT NULL DEFAULT '',
                test_note VARCHAR(1000) NOT NULL DEFAULT '',
                unresolvable BOOLEAN NOT NULL DEFAULT false,
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            f"""CREATE TABLE rma_quote ({{pk}},
                rma_id INTEGER NOT NULL UNIQUE REFERENCES rma (id),
                status VARCHAR(12) NOT NULL DEFAULT 'costed'
                    CHECK (status IN ('costed', 'quoted', 'accepted', 'declined')),
                fault VARCHAR(1000) NOT NULL DEFAULT '',
                amount_fen {big} NOT NULL CHECK (amount_fen > 0),
                costed_by VARCHAR(100) NOT NULL DEFAULT '',
                costed_at {TS},
                quoted_by VARCHAR(100) NOT NULL DEFAULT '',
                quoted_at {TSN},
                decided_by VARCHAR(100) NOT NULL DEFAULT '',
                decided_at {TSN},
                decision_note VARCHAR(500) NOT NULL DEFAULT '',
                receivable_id INTEGER DEFAULT NULL,
                paid_at {TSN},
                paid_by VARCHAR(100) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1)""",
            "CREATE INDEX rma_quote_status ON rma_quote (status)",
            f"""CREATE TABLE rma_replacement ({{pk}},
                rma_id INTEGER NOT NULL REFERENCES rma (id),
                status VARCHAR(12) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
                reason VARCHAR(500) NOT NULL DEFAULT '',
                raised_at {TS},
                decided_by VARCHAR(100) NOT NULL DEFAULT '',
                decided_at {TSN},
                note VARCHAR(500) NOT NULL DEFAULT '',
                new_serial VARCHAR(100) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1)""",
            # R-RMA-03: exactly one application per RMA, however many sweeps race
            "CREATE UNIQUE INDEX rma_replacement_one ON rma_replacement (rma_id)",
            "CREATE INDEX rma_replacement_status ON rma_replacement (status, raised_at)",
            f"""CREATE TABLE rma_handover ({{pk}},
                rma_id INTEGER NOT NULL REFERENCES rma (id),
                from_name VARCHAR(100) NOT NULL DEFAULT '',
                to_user_id INTEGER DEFAULT NULL,
                to_name VARCHAR(100) NOT NULL DEFAULT '',
                note VARCHAR(1000) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE INDEX rma_handover_rma ON rma_handover (rma_id)",
            f"""CREATE TABLE rma_consultation ({{pk}},
                rma_id INTEGER NOT NULL REFERENCES rma (id),
                answer VARCHAR(10) NOT NULL CHECK (answer IN ('continue', 'stop')),
                note VARCHAR(1000) NOT NULL DEFAULT '',
                username VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE INDEX rma_consultation_rma ON rma_consultation (rma_id)",
            f"""CREATE TABLE rma_part_use ({{pk}},
                rma_id INTEGER NOT NULL REFERENCES rma (id),
                part_id INTEGER NOT NULL,
                qty INTEGER NOT NULL CHECK (qty > 0),
                serial VARCHAR(100) NOT NULL DEFAULT '',
                move_id INTEGER DEFAULT NULL,
                username VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE INDEX rma_part_use_rma ON rma_part_use (rma_id)",
            "CREATE INDEX rma_part_use_created ON rma_part_use (created_at)",
            f"""CREATE TABLE rma_callback ({{pk}},
                rma_id INTEGER NOT NULL UNIQUE REFERENCES rma (id),
                due_at {TS},
                status VARCHAR(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
                note VARCHAR(1000) NOT NULL DEFAULT '',
                done_by VARCHAR(100) NOT NULL DEFAULT '',
                done_at {TSN},
                created_at {TS})""",
            "CREATE INDEX rma_callback_open ON rma_callback (status, due_at)",
            f"""CREATE TABLE rma_burn_in ({{pk}},
                model VARCHAR(100) NOT NULL UNIQUE,
                hours INTEGER NOT NULL CHECK (hours > 0))""",
        )
        # Operator-editable defaults (SPEC: every number a seed gives is data).
        for key, value in (("rma.burn_in_hours", "24"), ("rma.repair_days", "3"), ("rma.ship_days", "2")):
            await ddl.run(
                f"INSERT INTO app_setting (key, value, updated_at) VALUES ('{key}', '{value}', current_timestamp) "
                "ON CONFLICT (key) DO NOTHING"
            )

    manager.add_raw(run)
    return manager
