"""Loaners (issue #6, R-LOAN-01…03): loans with their numbered spare-replacement notice,
loaner requests from the desk, trigger records (R-LOAN-02), one-time form tokens.

One open loan per unit: a partial UNIQUE index on loan (serial_unit_id) WHERE status = 'out'
(both databases), on top of the parts ledger's compare-and-set on the unit's location.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "loaners: loans (spare-replacement notices), requests, trigger records, form tokens"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"

# R-LOAN-02 thresholds and the default loan length: data the operator can change.
SETTINGS = [
    ("loaners.fix_hours", "2"),  # not fixed within 2 h on site (001 §6.5.1)
    ("loaners.same_model_hours", "72"),  # cannot be solved → same model within 72 h (001 §3.1.6)
    ("loaners.maintenance_hours", "12"),  # maintenance longer than 12 h (003 #5)
    ("loaners.default_days", "7"),  # default expected return: today + N days
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            # a desk request for a loaner, fulfilled by the keeper's check-out
            f"""CREATE TABLE loan_request ({{pk}},
                status VARCHAR(12) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fulfilled', 'cancelled')),
                customer_id INTEGER NOT NULL REFERENCES customer (id),
                case_type VARCHAR(12) NOT NULL CHECK (case_type IN ('rma', 'ticket', 'standalone')),
                case_id INTEGER DEFAULT NULL,
                case_ref VARCHAR(60) NOT NULL DEFAULT '',
                part_id INTEGER DEFAULT NULL REFERENCES part (id),
                model VARCHAR(100) NOT NULL DEFAULT '',
                trigger_rule VARCHAR(30) NOT NULL DEFAULT '',
                reason TEXT NOT NULL DEFAULT '',
                needed_by DATE DEFAULT NULL,
                requested_by INTEGER DEFAULT NULL,
                requested_by_name VARCHAR(60) NOT NULL DEFAULT '',
                loan_id INTEGER DEFAULT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE INDEX loan_request_status ON loan_request (status, id)",
            # R-LOAN-01/03: the loan and its spare-replacement notice (故障处理备品替换通知)
            f"""CREATE TABLE loan ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                status VARCHAR(12) NOT NULL DEFAULT 'out' CHECK (status IN ('out', 'returned', 'converted')),
                serial_unit_id INTEGER NOT NULL REFERENCES serial_unit (id),
                part_id INTEGER NOT NULL REFERENCES part (id),
                serial VARCHAR(100) NOT NULL,
                model VARCHAR(100) NOT NULL DEFAULT '',
                customer_id INTEGER NOT NULL REFERENCES customer (id),
                customer_name VARCHAR(200) NOT NULL DEFAULT '',
                case_type VARCHAR(12) NOT NULL CHECK (case_type IN ('rma', 'ticket', 'standalone')),
                case_id INTEGER DEFAULT NULL,
                case_ref VARCHAR(60) NOT NULL DEFAULT '',
                reason TEXT NOT NULL DEFAULT '',
                device_serial VARCHAR(100) NOT NULL DEFAULT '',
                device_model VARCHAR(100) NOT NULL DEFAULT '',
                request_id INTEGER DEFAULT NULL REFERENCES loan_request (id),
                out_at TIMESTAMPTZ NOT NULL,
                expected_return DATE NOT NULL,
                condition_out VARCHAR(500) NOT NULL,
                out_by INTEGER DEFAULT NULL,
                out_by_name VARCHAR(60) NOT NULL DEFAULT '',
                returned_at TIMESTAMPTZ DEFAULT NULL,
                condition_in VARCHAR(500) NOT NULL DEFAULT '',
                test_result VARCHAR(8) NOT NULL DEFAULT '' CHECK (test_result IN ('', 'pass', 'fail')),
                test_note VARCHAR(500) NOT NULL DEFAULT '',
                returned_to VARCHAR(12) NOT NULL DEFAULT '' CHECK (returned_to IN ('', 'pool', 'bench', 'quarantine')),
                in_by INTEGER DEFAULT NULL,
                in_by_name VARCHAR(60) NOT NULL DEFAULT '',
                case_finished_at TIMESTAMPTZ DEFAULT NULL,
                recall_ref VARCHAR(60) NOT NULL DEFAULT '',
                recalled_at TIMESTAMPTZ DEFAULT NULL,
                converted_at TIMESTAMPTZ DEFAULT NULL,
                conversion_ref VARCHAR(60) NOT NULL DEFAULT '',
                conversion_note VARCHAR(500) NOT NULL DEFAULT '',
                converted_by_name VARCHAR(60) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS},
                CHECK (case_type <> 'rma' OR case_id IS NOT NULL),
                CHECK (case_type <> 'standalone' OR reason <> ''),
                CHECK (status <> 'returned' OR (returned_at IS NOT NULL AND test_result <> '' AND returned_to <> '')))""",
            # the race guard: one open loan per unit
            "CREATE UNIQUE INDEX loan_one_open_per_unit ON loan (serial_unit_id) WHERE status = 'out'",
            "CREATE INDEX loan_unit ON loan (serial_unit_id, id)",
            "CREATE INDEX loan_overdue ON loan (expected_return, id) WHERE status = 'out'",
            "CREATE INDEX loan_finished_out ON loan (case_finished_at, id) WHERE status = 'out' AND case_finished_at IS NOT NULL",
            "CREATE INDEX loan_open_part ON loan (part_id) WHERE status = 'out'",
            "CREATE INDEX loan_status ON loan (status, id)",
            "CREATE INDEX loan_customer ON loan (customer_id, id)",
            "CREATE INDEX loan_case ON loan (case_type, case_id)",
            "CREATE INDEX loan_case_ref ON loan (case_type, case_ref)",
            # one-time form tokens: a double-submitted check-out books once
            f"""CREATE TABLE loan_form_token ({{pk}},
                token VARCHAR(64) NOT NULL UNIQUE,
                user_id INTEGER DEFAULT NULL,
                loan_id INTEGER DEFAULT NULL,
                created_at {TS})""",
            # R-LOAN-02: which rule entitled a case to a free loaner, when it fired
            f"""CREATE TABLE loan_trigger ({{pk}},
                case_type VARCHAR(12) NOT NULL CHECK (case_type IN ('rma', 'ticket', 'standalone')),
                case_id INTEGER DEFAULT NULL,
                case_ref VARCHAR(60) NOT NULL DEFAULT '',
                rule VARCHAR(30) NOT NULL CHECK (rule IN ('not_fixed_on_site', 'cannot_solve', 'long_maintenance')),
                fired_at TIMESTAMPTZ NOT NULL,
                due_at TIMESTAMPTZ DEFAULT NULL,
                detail TEXT NOT NULL DEFAULT '',
                customer_id INTEGER DEFAULT NULL REFERENCES customer (id),
                recorded_by INTEGER DEFAULT NULL,
                recorded_by_name VARCHAR(60) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX loan_trigger_once ON loan_trigger (case_type, case_ref, rule)",
        )
        for key, value in SETTINGS:
            await ddl.run(f"INSERT INTO app_setting (key, value) VALUES ('{key}', '{value}') ON CONFLICT (key) DO NOTHING")

    manager.add_raw(run)
    return manager
