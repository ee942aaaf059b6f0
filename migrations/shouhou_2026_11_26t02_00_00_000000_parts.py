"""Spare parts (issue #4): catalogue, locations, serial units, stock levels, the immutable
stock ledger, one-time form tokens, purchase requests, emergency releases, stocktakes.

R-INV-03: `stock_level.on_hand` can never go negative (CHECK on both databases, plus a
trigger on SQLite with a readable message); `stock_move` rows are append-only
(UPDATE/DELETE refused by triggers).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "parts: catalogue, locations, stock ledger (append-only), purchasing, emergency store, stocktake"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"

# Fixed locations other domains rely on by code (R-INV-02). Offices and technician
# stock are data (seed / the locations page).
SYSTEM_LOCATIONS = [
    # code, kind, name_zh, sort
    ("CENTRAL", "central", "中心仓库", 10),
    ("EMERGENCY", "emergency", "应急产品库", 20),
    ("BENCH", "bench", "维修部", 60),
    ("LOANER", "loaner_pool", "备品池", 70),
    ("QUARANTINE", "quarantine", "隔离区（待处理/待报废）", 80),
    ("CUSTOMER", "customer", "客户现场", 90),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        sqlite = ddl.dialect() == "sqlite"
        big = "INTEGER" if sqlite else "BIGINT"
        await ddl.run(
            # R-INV-01 catalogue
            f"""CREATE TABLE part ({{pk}},
                part_no VARCHAR(60) NOT NULL UNIQUE,
                name VARCHAR(200) NOT NULL,
                model VARCHAR(100) NOT NULL DEFAULT '',
                category VARCHAR(20) NOT NULL DEFAULT 'part' CHECK (category IN ('part', 'consumable', 'device')),
                unit VARCHAR(20) NOT NULL DEFAULT '个',
                cost_fen {big} NOT NULL DEFAULT 0 CHECK (cost_fen >= 0),
                supplier VARCHAR(200) NOT NULL DEFAULT '',
                serialised BOOLEAN NOT NULL DEFAULT false,
                discontinued BOOLEAN NOT NULL DEFAULT false,
                note TEXT NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE INDEX part_name ON part (name)",
            "CREATE INDEX part_model ON part (model)",
            f"""CREATE TABLE part_substitute ({{pk}},
                part_id INTEGER NOT NULL REFERENCES part (id),
                substitute_id INTEGER NOT NULL REFERENCES part (id),
                CHECK (part_id <> substitute_id))""",
            "CREATE UNIQUE INDEX part_substitute_pair ON part_substitute (part_id, substitute_id)",
            # R-INV-02 locations
            f"""CREATE TABLE stock_location ({{pk}},
                code VARCHAR(40) NOT NULL UNIQUE,
                name VARCHAR(100) NOT NULL,
                kind VARCHAR(20) NOT NULL CHECK (kind IN
                    ('central', 'emergency', 'office', 'technician', 'bench', 'loaner_pool', 'quarantine', 'customer')),
                keeper_user_id INTEGER DEFAULT NULL REFERENCES app_user (id),
                office VARCHAR(60) NOT NULL DEFAULT '',
                sort INTEGER NOT NULL DEFAULT 100,
                active BOOLEAN NOT NULL DEFAULT true,
                created_at {TS})""",
            "CREATE INDEX stock_location_keeper ON stock_location (keeper_user_id)",
            # on-hand per (part, location) and the minimum (R-INV-04)
            f"""CREATE TABLE stock_level ({{pk}},
                part_id INTEGER NOT NULL REFERENCES part (id),
                location_id INTEGER NOT NULL REFERENCES stock_location (id),
                on_hand INTEGER NOT NULL DEFAULT 0 CONSTRAINT stock_level_not_negative CHECK (on_hand >= 0),
                installed_qty INTEGER NOT NULL DEFAULT 0 CHECK (installed_qty >= 0),
                min_qty INTEGER NOT NULL DEFAULT 0 CHECK (min_qty >= 0),
                min_manual BOOLEAN NOT NULL DEFAULT false,
                updated_at {TS})""",
            "CREATE UNIQUE INDEX stock_level_part_location ON stock_level (part_id, location_id)",
            "CREATE INDEX stock_level_location ON stock_level (location_id, part_id)",
            # the reorder list (R-INV-04): a partial index holds only the rows below their minimum
            "CREATE INDEX stock_level_below_min ON stock_level (location_id, part_id) WHERE on_hand < min_qty",
            # serialised units, one by one
            f"""CREATE TABLE serial_unit ({{pk}},
                part_id INTEGER NOT NULL REFERENCES part (id),
                serial VARCHAR(100) NOT NULL,
                location_id INTEGER DEFAULT NULL REFERENCES stock_location (id),
                status VARCHAR(20) NOT NULL DEFAULT 'in_stock',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE UNIQUE INDEX serial_unit_part_serial ON serial_unit (part_id, serial)",
            "CREATE INDEX serial_unit_serial ON serial_unit (serial)",
            "CREATE INDEX serial_unit_location ON serial_unit (location_id, part_id)",
            # R-INV-03 the ledger: one immutable row per movement
            f"""CREATE TABLE stock_move ({{pk}},
                created_at {TS},
                kind VARCHAR(20) NOT NULL,
                part_id INTEGER NOT NULL REFERENCES part (id),
                serial_unit_id INTEGER DEFAULT NULL REFERENCES serial_unit (id),
                serial VARCHAR(100) NOT NULL DEFAULT '',
                qty INTEGER NOT NULL CHECK (qty > 0),
                from_location_id INTEGER DEFAULT NULL REFERENCES stock_location (id),
                to_location_id INTEGER DEFAULT NULL REFERENCES stock_location (id),
                document_type VARCHAR(40) NOT NULL DEFAULT '',
                document_id VARCHAR(60) NOT NULL DEFAULT '',
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(60) NOT NULL DEFAULT '',
                reason VARCHAR(500) NOT NULL DEFAULT '',
                CHECK (from_location_id IS NOT NULL OR to_location_id IS NOT NULL),
                CHECK (from_location_id IS NULL OR to_location_id IS NULL OR from_location_id <> to_location_id))""",
            "CREATE INDEX stock_move_part ON stock_move (part_id, id)",
            "CREATE INDEX stock_move_from ON stock_move (from_location_id, id)",
            "CREATE INDEX stock_move_to ON stock_move (to_location_id, id)",
            "CREATE INDEX stock_move_unit ON stock_move (serial_unit_id, id)",
            "CREATE INDEX stock_move_document ON stock_move (document_type, document_id)",
            *ddl.append_only("stock_move"),
            # one-time form tokens: a double submit books once
            f"""CREATE TABLE parts_form_token ({{pk}},
                token VARCHAR(64) NOT NULL UNIQUE,
                user_id INTEGER DEFAULT NULL,
                ref VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            # R-INV-04 purchasing
            f"""CREATE TABLE purchase_request ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                status VARCHAR(20) NOT NULL DEFAULT 'requested'
                    CHECK (status IN ('requested', 'approved', 'rejected', 'received', 'cancelled')),
                location_id INTEGER NOT NULL REFERENCES stock_location (id),
                supplier VARCHAR(200) NOT NULL DEFAULT '',
                note TEXT NOT NULL DEFAULT '',
                requested_by INTEGER DEFAULT NULL,
                requested_by_name VARCHAR(60) NOT NULL DEFAULT '',
                decided_by INTEGER DEFAULT NULL,
                decided_by_name VARCHAR(60) NOT NULL DEFAULT '',
                decided_at TIMESTAMPTZ DEFAULT NULL,
                decision_note TEXT NOT NULL DEFAULT '',
                received_at TIMESTAMPTZ DEFAULT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE INDEX purchase_request_status ON purchase_request (status, id)",
            f"""CREATE TABLE purchase_request_line ({{pk}},
                request_id INTEGER NOT NULL REFERENCES purchase_request (id),
                part_id INTEGER NOT NULL REFERENCES part (id),
                qty INTEGER NOT NULL CHECK (qty > 0),
                received_qty INTEGER NOT NULL DEFAULT 0 CHECK (received_qty >= 0 AND received_qty <= qty),
                cost_fen {big} NOT NULL DEFAULT 0)""",
            "CREATE INDEX purchase_request_line_request ON purchase_request_line (request_id)",
            # R-INV-05 emergency store
            f"""CREATE TABLE emergency_request ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                status VARCHAR(20) NOT NULL DEFAULT 'requested'
                    CHECK (status IN ('requested', 'approved', 'rejected', 'issued', 'cancelled')),
                customer_id INTEGER DEFAULT NULL,
                customer_name VARCHAR(200) NOT NULL,
                reason TEXT NOT NULL,
                engineer_id INTEGER DEFAULT NULL REFERENCES app_user (id),
                engineer_name VARCHAR(100) NOT NULL DEFAULT '',
                requested_by INTEGER DEFAULT NULL,
                requested_by_name VARCHAR(60) NOT NULL DEFAULT '',
                decided_by INTEGER DEFAULT NULL,
                decided_by_name VARCHAR(60) NOT NULL DEFAULT '',
                decided_at TIMESTAMPTZ DEFAULT NULL,
                decision_note TEXT NOT NULL DEFAULT '',
                issued_by INTEGER DEFAULT NULL,
                issued_by_name VARCHAR(60) NOT NULL DEFAULT '',
                issued_at TIMESTAMPTZ DEFAULT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE INDEX emergency_request_status ON emergency_request (status, id)",
            f"""CREATE TABLE emergency_request_line ({{pk}},
                request_id INTEGER NOT NULL REFERENCES emergency_request (id),
                part_id INTEGER NOT NULL REFERENCES part (id),
                qty INTEGER NOT NULL CHECK (qty > 0),
                serials VARCHAR(1000) NOT NULL DEFAULT '')""",
            "CREATE INDEX emergency_request_line_request ON emergency_request_line (request_id)",
            # R-INV-06 stocktake
            f"""CREATE TABLE stocktake ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                location_id INTEGER NOT NULL REFERENCES stock_location (id),
                status VARCHAR(20) NOT NULL DEFAULT 'counting'
                    CHECK (status IN ('counting', 'submitted', 'approved', 'rejected', 'cancelled')),
                created_by INTEGER DEFAULT NULL,
                created_by_name VARCHAR(60) NOT NULL DEFAULT '',
                decided_by INTEGER DEFAULT NULL,
                decided_by_name VARCHAR(60) NOT NULL DEFAULT '',
                decided_at TIMESTAMPTZ DEFAULT NULL,
                reason TEXT NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE INDEX stocktake_location ON stocktake (location_id, id)",
            "CREATE INDEX stocktake_status ON stocktake (status, id)",
            f"""CREATE TABLE stocktake_line ({{pk}},
                stocktake_id INTEGER NOT NULL REFERENCES stocktake (id),
                part_id INTEGER NOT NULL REFERENCES part (id),
                expected_qty INTEGER NOT NULL,
                counted_qty INTEGER DEFAULT NULL CHECK (counted_qty IS NULL OR counted_qty >= 0))""",
            "CREATE UNIQUE INDEX stocktake_line_part ON stocktake_line (stocktake_id, part_id)",
        )
        if sqlite:
            # R-INV-03: the CHECK already refuses it; the trigger answers with a readable message.
            await ddl.run(
                "CREATE TRIGGER stock_level_no_negative_update BEFORE UPDATE OF on_hand ON stock_level "
                "WHEN NEW.on_hand < 0 BEGIN SELECT RAISE(ABORT, 'stock_level.on_hand may not go negative'); END",
                "CREATE TRIGGER stock_level_no_negative_insert BEFORE INSERT ON stock_level "
                "WHEN NEW.on_hand < 0 BEGIN SELECT RAISE(ABORT, 'stock_level.on_hand may not go negative'); END",
            )
        for code, kind, name, sort in SYSTEM_LOCATIONS:
            await ddl.run(
                f"INSERT INTO stock_location (code, name, kind, sort, active) VALUES ('{code}', '{name}', '{kind}', {sort}, true)"
            )
        await ddl.run(
            "INSERT INTO doc_series (code, prefix, format, yearly, name_en, name_zh) VALUES "
            "('stocktake', 'PD', '{prefix}-{year}-{n:06d}', true, 'Stocktake', '盘点单') ON CONFLICT (code) DO NOTHING",
            "INSERT INTO app_setting (key, value) VALUES ('parts.min_stock_percent', '3') ON CONFLICT (key) DO NOTHING",
        )

    manager.add_raw(run)
    return manager
