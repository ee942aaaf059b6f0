"""Scrap (issue #14, R-SCR-01…03, R-INV-02): scrap records (报废品处理记录) with their appraisal group,
the appraisers' opinions, monthly quality batches (R-SCR-02).

Race guards held by the database (both engines):
* one open scrap record per serialised unit — partial UNIQUE index on scrap_request (serial_unit_id);
* one opinion per appraiser and record — UNIQUE (request_id, user_id) on scrap_opinion, so a double
  vote counts once; one seat per appraiser — UNIQUE (request_id, user_id) on scrap_appraiser;
* one batch per month — UNIQUE (month) on scrap_batch.
Money is integer fen (app.core.money). Status moves go through app.core.status.move().
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scrap: scrap records, appraisal group, opinions, monthly quality batches"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"
STATUSES = "'draft', 'appraising', 'appraised', 'manager_approved', 'gm_approved', 'disposed', 'rejected'"
OPEN = "'draft', 'appraising', 'appraised', 'manager_approved', 'gm_approved'"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        big = "INTEGER" if ddl.dialect() == "sqlite" else "BIGINT"
        await ddl.run(
            # R-SCR-02: the month's quality-problem records gathered for one approval
            f"""CREATE TABLE scrap_batch ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                month VARCHAR(7) NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                created_by INTEGER DEFAULT NULL,
                created_by_name VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX scrap_batch_month ON scrap_batch (month)",
            # R-SCR-01: the scrap record (报废品处理记录)
            f"""CREATE TABLE scrap_request ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                status VARCHAR(20) NOT NULL DEFAULT 'draft' CHECK (status IN ({STATUSES})),
                part_id INTEGER NOT NULL REFERENCES part (id),
                serial_unit_id INTEGER DEFAULT NULL REFERENCES serial_unit (id),
                serial VARCHAR(100) NOT NULL DEFAULT '',
                qty INTEGER NOT NULL CHECK (qty > 0),
                part_no VARCHAR(60) NOT NULL DEFAULT '',
                part_name VARCHAR(200) NOT NULL DEFAULT '',
                model VARCHAR(100) NOT NULL DEFAULT '',
                supplier VARCHAR(200) NOT NULL DEFAULT '',
                reason VARCHAR(20) NOT NULL CHECK (reason IN
                    ('obsolete', 'repair_failed', 'quality_defect', 'customer_damage', 'other')),
                note TEXT NOT NULL DEFAULT '',
                source_type VARCHAR(12) NOT NULL DEFAULT 'manual' CHECK (source_type IN
                    ('rma', 'loaner', 'stocktake', 'manual')),
                source_ref VARCHAR(60) NOT NULL DEFAULT '',
                loan_id INTEGER DEFAULT NULL,
                loan_number VARCHAR(40) NOT NULL DEFAULT '',
                unit_cost_fen {big} NOT NULL DEFAULT 0 CHECK (unit_cost_fen >= 0),
                value_fen {big} NOT NULL CHECK (value_fen > 0),
                value_override_reason VARCHAR(500) NOT NULL DEFAULT '',
                batch_id INTEGER DEFAULT NULL REFERENCES scrap_batch (id),
                requested_by INTEGER DEFAULT NULL REFERENCES app_user (id),
                requested_by_name VARCHAR(100) NOT NULL DEFAULT '',
                quorum INTEGER NOT NULL DEFAULT 0,
                convened_by_name VARCHAR(100) NOT NULL DEFAULT '',
                convened_at TIMESTAMPTZ DEFAULT NULL,
                appraisal_result VARCHAR(20) NOT NULL DEFAULT '' CHECK (appraisal_result IN
                    ('', 'scrap', 'repair', 'return_supplier')),
                appraised_at TIMESTAMPTZ DEFAULT NULL,
                gm_needed BOOLEAN NOT NULL DEFAULT false,
                manager_by INTEGER DEFAULT NULL,
                manager_by_name VARCHAR(100) NOT NULL DEFAULT '',
                manager_at TIMESTAMPTZ DEFAULT NULL,
                manager_note VARCHAR(500) NOT NULL DEFAULT '',
                gm_by INTEGER DEFAULT NULL,
                gm_by_name VARCHAR(100) NOT NULL DEFAULT '',
                gm_at TIMESTAMPTZ DEFAULT NULL,
                gm_note VARCHAR(500) NOT NULL DEFAULT '',
                rejected_stage VARCHAR(20) NOT NULL DEFAULT '',
                rejected_by_name VARCHAR(100) NOT NULL DEFAULT '',
                rejected_at TIMESTAMPTZ DEFAULT NULL,
                reject_note VARCHAR(500) NOT NULL DEFAULT '',
                returned_to VARCHAR(12) NOT NULL DEFAULT '' CHECK (returned_to IN ('', 'CENTRAL', 'BENCH')),
                disposal_method VARCHAR(20) NOT NULL DEFAULT '' CHECK (disposal_method IN
                    ('', 'destroy', 'recycle', 'return_supplier', 'sell_scrap')),
                disposed_on DATE DEFAULT NULL,
                disposed_by INTEGER DEFAULT NULL,
                disposed_by_name VARCHAR(100) NOT NULL DEFAULT '',
                disposal_note VARCHAR(500) NOT NULL DEFAULT '',
                disposal_move_id INTEGER DEFAULT NULL,
                loan_converted_at TIMESTAMPTZ DEFAULT NULL,
                loan_note VARCHAR(500) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS},
                CHECK (serial_unit_id IS NULL OR qty = 1),
                CHECK (status <> 'disposed' OR (disposal_method <> '' AND disposed_on IS NOT NULL)))""",
            # one open record per serialised unit (two keepers raising the same unit → one wins)
            f"CREATE UNIQUE INDEX scrap_request_open_unit ON scrap_request (serial_unit_id) "
            f"WHERE serial_unit_id IS NOT NULL AND status IN ({OPEN})",
            # list filters: by status (keyset on id), by part for open quantities, write-offs by date
            "CREATE INDEX scrap_request_status ON scrap_request (status, id)",
            f"CREATE INDEX scrap_request_open_part ON scrap_request (part_id) WHERE status IN ({OPEN})",
            "CREATE INDEX scrap_request_disposed ON scrap_request (disposed_on, id) WHERE status = 'disposed'",
            "CREATE INDEX scrap_request_quality ON scrap_request (created_at, id) WHERE reason = 'quality_defect'",
            "CREATE INDEX scrap_request_batch ON scrap_request (batch_id)",
            "CREATE INDEX scrap_request_source ON scrap_request (source_type, source_ref)",
            # R-SCR-01/03: the temporary technical appraisal group of one record
            f"""CREATE TABLE scrap_appraiser ({{pk}},
                request_id INTEGER NOT NULL REFERENCES scrap_request (id),
                user_id INTEGER NOT NULL REFERENCES app_user (id),
                user_name VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX scrap_appraiser_seat ON scrap_appraiser (request_id, user_id)",
            "CREATE INDEX scrap_appraiser_user ON scrap_appraiser (user_id, request_id)",
            # one opinion per appraiser: voting twice counts once
            f"""CREATE TABLE scrap_opinion ({{pk}},
                request_id INTEGER NOT NULL REFERENCES scrap_request (id),
                user_id INTEGER NOT NULL REFERENCES app_user (id),
                user_name VARCHAR(100) NOT NULL DEFAULT '',
                opinion VARCHAR(20) NOT NULL CHECK (opinion IN ('scrap', 'repair', 'return_supplier')),
                note VARCHAR(1000) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX scrap_opinion_once ON scrap_opinion (request_id, user_id)",
        )
        await ddl.run(
            "INSERT INTO doc_series (code, prefix, format, yearly, name_en, name_zh) VALUES "
            "('scrap', 'BF', '{prefix}-{year}-{n:06d}', true, 'Scrap record', '报废品处理记录') ON CONFLICT (code) DO NOTHING",
            "INSERT INTO doc_series (code, prefix, format, yearly, name_en, name_zh) VALUES "
            "('scrap_batch', 'BFPC', '{prefix}-{year}-{n:04d}', true, 'Monthly scrap batch', '月度报废批次') "
            "ON CONFLICT (code) DO NOTHING",
        )

    manager.add_raw(run)
    return manager
