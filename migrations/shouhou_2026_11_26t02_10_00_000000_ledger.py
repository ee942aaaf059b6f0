"""Ledger (issue #7): repair-slip books and per-number slips (R-SLIP-01…08), receivables,
sales confirmations, statements, payments, extensions, working-day calendar (R-AR-01…04).

Money is integer fen (BIGINT). Versions on every row a user can change (compare-and-set).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: slip books, slips, voids/transfers/delays/hand-backs, receivables, statements, payments"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            # R-SLIP-01: a book of pre-numbered slips; kind 'backup' = the office's backup book (R-SLIP-05).
            f"""CREATE TABLE slip_book ({{pk}},
                series VARCHAR(20) NOT NULL DEFAULT 'WX',
                first_number INTEGER NOT NULL CHECK (first_number > 0),
                last_number INTEGER NOT NULL,
                kind VARCHAR(10) NOT NULL DEFAULT 'regular' CHECK (kind IN ('regular', 'backup')),
                status VARCHAR(10) NOT NULL DEFAULT 'stock' CHECK (status IN ('stock', 'issued', 'closed')),
                holder_user_id INTEGER DEFAULT NULL REFERENCES app_user (id),
                holder_name VARCHAR(100) NOT NULL DEFAULT '',
                issued_on DATE DEFAULT NULL,
                closed_on DATE DEFAULT NULL,
                note VARCHAR(200) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS},
                CHECK (last_number >= first_number AND last_number - first_number < 1000))""",
            "CREATE UNIQUE INDEX slip_book_series_first ON slip_book (series, first_number)",
            # R-SLIP-01: one regular book per repairer at a time — enforced by the database too.
            "CREATE UNIQUE INDEX slip_book_one_per_holder ON slip_book (holder_user_id) "
            "WHERE status = 'issued' AND kind = 'regular'",
            "CREATE INDEX slip_book_status ON slip_book (status, id)",
            # One row per number: its state is the reconciliation (R-SLIP-08).
            f"""CREATE TABLE slip ({{pk}},
                book_id INTEGER NOT NULL REFERENCES slip_book (id),
                series VARCHAR(20) NOT NULL,
                number INTEGER NOT NULL,
                state VARCHAR(12) NOT NULL DEFAULT 'unused'
                    CHECK (state IN ('unused', 'used', 'void', 'transferred', 'returned')),
                holder_user_id INTEGER DEFAULT NULL,
                state_on DATE DEFAULT NULL,
                used_at TIMESTAMPTZ DEFAULT NULL,
                job_type VARCHAR(30) NOT NULL DEFAULT '',
                job_id VARCHAR(40) NOT NULL DEFAULT '',
                amount_fen BIGINT NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
                has_delay BOOLEAN NOT NULL DEFAULT false,
                version INTEGER NOT NULL DEFAULT 1,
                updated_at {TS})""",
            "CREATE UNIQUE INDEX slip_series_number ON slip (series, number)",
            "CREATE UNIQUE INDEX slip_book_number ON slip (book_id, number)",
            "CREATE INDEX slip_month ON slip (state_on, holder_user_id)",
            "CREATE INDEX slip_holder_month ON slip (holder_user_id, state_on)",
            "CREATE INDEX slip_job ON slip (job_type, job_id)",
            # Covering index in number order: the out-of-order window and the book pages read no table rows.
            "CREATE INDEX slip_book_order ON slip (book_id, number, state, used_at, holder_user_id, state_on)",
            # R-SLIP-04: void with reason; the stub handed in to finance (date NULL = still with the repairer).
            f"""CREATE TABLE slip_void ({{pk}},
                slip_id INTEGER NOT NULL UNIQUE REFERENCES slip (id),
                reason VARCHAR(300) NOT NULL CHECK (reason <> ''),
                handed_in_on DATE DEFAULT NULL,
                recorded_by INTEGER DEFAULT NULL,
                created_at {TS})""",
            # R-SLIP-05: moved to a backup slip — original number, new number, who signed.
            f"""CREATE TABLE slip_transfer ({{pk}},
                from_slip_id INTEGER NOT NULL UNIQUE REFERENCES slip (id),
                to_slip_id INTEGER NOT NULL UNIQUE REFERENCES slip (id),
                reason VARCHAR(300) NOT NULL DEFAULT '',
                signed_by VARCHAR(100) NOT NULL CHECK (signed_by <> ''),
                signed_on DATE NOT NULL,
                recorded_by INTEGER DEFAULT NULL,
                created_at {TS})""",
            # R-SLIP-06: a delay slip attached to a used slip.
            f"""CREATE TABLE slip_delay ({{pk}},
                slip_id INTEGER NOT NULL REFERENCES slip (id),
                reason VARCHAR(300) NOT NULL CHECK (reason <> ''),
                delay_ref VARCHAR(40) NOT NULL DEFAULT '',
                new_due_on DATE DEFAULT NULL,
                recorded_by INTEGER DEFAULT NULL,
                created_at {TS})""",
            "CREATE INDEX slip_delay_slip ON slip_delay (slip_id)",
            # R-SLIP-07: unused numbers handed back (leaving repairer, or a book withdrawn).
            f"""CREATE TABLE slip_handback ({{pk}},
                book_id INTEGER NOT NULL REFERENCES slip_book (id),
                user_id INTEGER DEFAULT NULL,
                from_number INTEGER NOT NULL,
                to_number INTEGER NOT NULL,
                count INTEGER NOT NULL CHECK (count > 0),
                reason VARCHAR(300) NOT NULL DEFAULT '',
                handed_on DATE NOT NULL,
                recorded_by INTEGER DEFAULT NULL,
                created_at {TS})""",
            "CREATE INDEX slip_handback_book ON slip_handback (book_id)",
            # R-AR-01: sales confirmations (销售确认书), numbered XS-….
            f"""CREATE TABLE sales_confirmation ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                customer_id INTEGER DEFAULT NULL,
                customer_name VARCHAR(200) NOT NULL CHECK (customer_name <> ''),
                account_class VARCHAR(10) NOT NULL CHECK (account_class IN ('monthly', 'retail')),
                technician_user_id INTEGER DEFAULT NULL,
                description VARCHAR(300) NOT NULL DEFAULT '',
                amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
                sold_on DATE NOT NULL,
                registered_by INTEGER DEFAULT NULL,
                created_at {TS})""",
            # R-AR-02: statements (对账单), numbered DZ-…; workflow with compare-and-set on version.
            f"""CREATE TABLE ar_statement ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                customer_id INTEGER DEFAULT NULL,
                customer_name VARCHAR(200) NOT NULL,
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,
                status VARCHAR(10) NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'reviewed', 'checked', 'sent', 'settled', 'cancelled')),
                total_fen BIGINT NOT NULL DEFAULT 0 CHECK (total_fen >= 0),
                paid_fen BIGINT NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
                due_on DATE DEFAULT NULL,
                note VARCHAR(300) NOT NULL DEFAULT '',
                drafted_by INTEGER DEFAULT NULL, drafted_at TIMESTAMPTZ DEFAULT NULL,
                reviewed_by INTEGER DEFAULT NULL, reviewed_at TIMESTAMPTZ DEFAULT NULL,
                checked_by INTEGER DEFAULT NULL, checked_at TIMESTAMPTZ DEFAULT NULL,
                sent_by INTEGER DEFAULT NULL, sent_at TIMESTAMPTZ DEFAULT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS},
                CHECK (paid_fen <= total_fen))""",
            "CREATE INDEX ar_statement_status ON ar_statement (status, id)",
            "CREATE INDEX ar_statement_customer ON ar_statement (customer_name, period_start)",
            # The receivable line any domain posts (post_receivable); paid_fen never above amount_fen.
            f"""CREATE TABLE receivable ({{pk}},
                source_type VARCHAR(30) NOT NULL DEFAULT 'manual',
                source_id VARCHAR(40) NOT NULL DEFAULT '',
                customer_id INTEGER DEFAULT NULL,
                customer_name VARCHAR(200) NOT NULL CHECK (customer_name <> ''),
                account_class VARCHAR(10) NOT NULL CHECK (account_class IN ('monthly', 'retail')),
                technician_user_id INTEGER DEFAULT NULL,
                description VARCHAR(300) NOT NULL DEFAULT '',
                amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
                paid_fen BIGINT NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
                is_open BOOLEAN NOT NULL DEFAULT true,
                posted_on DATE NOT NULL,
                due_date DATE DEFAULT NULL,
                extended BOOLEAN NOT NULL DEFAULT false,
                statement_id INTEGER DEFAULT NULL REFERENCES ar_statement (id),
                followup_note VARCHAR(300) NOT NULL DEFAULT '',
                followup_at TIMESTAMPTZ DEFAULT NULL,
                created_by INTEGER DEFAULT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS},
                CHECK (paid_fen <= amount_fen))""",
            "CREATE INDEX receivable_source ON receivable (source_type, source_id, amount_fen)",
            # The Monday overdue review: open lines by technician, oldest due first, without a sort.
            "CREATE INDEX receivable_tech_due ON receivable (is_open, technician_user_id, due_date)",
            # Covering indexes for the pages finance opens most: ageing (open lines by customer), overdue
            # counts, and the open list newest first.
            "CREATE INDEX receivable_ageing ON receivable (is_open, customer_name, posted_on, amount_fen, paid_fen)",
            "CREATE INDEX receivable_due ON receivable (is_open, due_date, amount_fen, paid_fen)",
            "CREATE INDEX receivable_open_id ON receivable (is_open, id)",
            "CREATE INDEX receivable_customer ON receivable (customer_name, id)",
            "CREATE INDEX receivable_tech ON receivable (technician_user_id, posted_on)",
            "CREATE INDEX receivable_statement ON receivable (statement_id)",
            "CREATE INDEX receivable_posted ON receivable (posted_on, id)",
            f"""CREATE TABLE ar_statement_line ({{pk}},
                statement_id INTEGER NOT NULL REFERENCES ar_statement (id),
                receivable_id INTEGER NOT NULL UNIQUE REFERENCES receivable (id),
                amount_fen BIGINT NOT NULL,
                description VARCHAR(300) NOT NULL DEFAULT '',
                posted_on DATE NOT NULL)""",
            "CREATE INDEX ar_statement_line_stmt ON ar_statement_line (statement_id)",
            # Payments: a one-time token (UNIQUE) makes a double submit book once.
            f"""CREATE TABLE ar_payment ({{pk}},
                token VARCHAR(64) NOT NULL UNIQUE,
                customer_id INTEGER DEFAULT NULL,
                customer_name VARCHAR(200) NOT NULL,
                statement_id INTEGER DEFAULT NULL REFERENCES ar_statement (id),
                receivable_id INTEGER DEFAULT NULL REFERENCES receivable (id),
                amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
                received_on DATE NOT NULL,
                method VARCHAR(12) NOT NULL DEFAULT 'transfer' CHECK (method IN ('cash', 'transfer', 'cheque', 'other')),
                reference VARCHAR(100) NOT NULL DEFAULT '',
                recorded_by INTEGER DEFAULT NULL,
                created_at {TS})""",
            "CREATE INDEX ar_payment_received ON ar_payment (received_on, id)",
            "CREATE INDEX ar_payment_statement ON ar_payment (statement_id)",
            f"""CREATE TABLE ar_allocation ({{pk}},
                payment_id INTEGER NOT NULL REFERENCES ar_payment (id),
                receivable_id INTEGER NOT NULL REFERENCES receivable (id),
                amount_fen BIGINT NOT NULL CHECK (amount_fen > 0))""",
            "CREATE INDEX ar_allocation_payment ON ar_allocation (payment_id)",
            "CREATE INDEX ar_allocation_receivable ON ar_allocation (receivable_id)",
            *ddl.append_only("ar_allocation"),
            # R-AR-03: late-payment extension requests, approved by the manager (or GM).
            f"""CREATE TABLE ar_extension ({{pk}},
                receivable_id INTEGER NOT NULL REFERENCES receivable (id),
                reason VARCHAR(300) NOT NULL CHECK (reason <> ''),
                old_due_date DATE DEFAULT NULL,
                requested_due_date DATE NOT NULL,
                status VARCHAR(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
                requested_by INTEGER DEFAULT NULL,
                decided_by INTEGER DEFAULT NULL,
                decided_at TIMESTAMPTZ DEFAULT NULL,
                decision_note VARCHAR(300) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS})""",
            "CREATE INDEX ar_extension_status ON ar_extension (status, id)",
            "CREATE INDEX ar_extension_receivable ON ar_extension (receivable_id)",
            # R-AR-04: the weekly reconciliation of a technician's sales ledger with the coordinator.
            f"""CREATE TABLE ar_week_check ({{pk}},
                technician_user_id INTEGER NOT NULL,
                week_start DATE NOT NULL,
                line_count INTEGER NOT NULL DEFAULT 0,
                total_fen BIGINT NOT NULL DEFAULT 0,
                checked_by INTEGER DEFAULT NULL,
                note VARCHAR(300) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX ar_week_check_unique ON ar_week_check (technician_user_id, week_start)",
            # Working-day calendar: rows override Mon–Fri (public holidays off, make-up weekend days on).
            f"""CREATE TABLE work_calendar ({{pk}},
                day DATE NOT NULL UNIQUE,
                is_working BOOLEAN NOT NULL DEFAULT false,
                name VARCHAR(100) NOT NULL DEFAULT '',
                updated_at {TS})""",
        )
        # Default settings (data, not constants — SPEC preamble).
        await ddl.run(
            "INSERT INTO app_setting (key, value, updated_at) VALUES "
            "('ledger.retail_due_working_days', '7', current_timestamp), "
            "('ledger.monthly_due_days', '30', current_timestamp), "
            "('ledger.book_size', '50', current_timestamp) "
            "ON CONFLICT (key) DO NOTHING"
        )
        # Public holidays 2026–2027 (State Council schedule; editable on /receivables/calendar).
        holidays = [
            ("2026-01-01", "元旦"), ("2026-01-02", "元旦"),
            ("2026-02-16", "春节"), ("2026-02-17", "春节"), ("2026-02-18", "春节"), ("2026-02-19", "春节"),
            ("2026-02-20", "春节"), ("2026-02-23", "春节"),
            ("2026-04-06", "清明节"), ("2026-05-01", "劳动节"), ("2026-05-04", "劳动节"), ("2026-05-05", "劳动节"),
            ("2026-06-19", "端午节"), ("2026-09-25", "中秋节"),
            ("2026-10-01", "国庆节"), ("2026-10-02", "国庆节"), ("2026-10-05", "国庆节"), ("2026-10-06", "国庆节"),
            ("2026-10-07", "国庆节"),
            ("2027-01-01", "元旦"),
        ]
        values = ", ".join(f"('{day}', false, '{name}', current_timestamp)" for day, name in holidays)
        await ddl.run(f"INSERT INTO work_calendar (day, is_working, name, updated_at) VALUES {values}")

    manager.add_raw(run)
    return manager
