"""Service tickets (issue #13, SPEC §B R-TKT-01…09): the ticket (售后服务单) with its entitlement
snapshot and SLA deadlines, its visits (child slips, R-TKT-07) with sign-off, the parts a visit used,
SLA pauses and breaches (recorded once per clock), technician profiles for dispatch (office, skills),
and the visit's one-time form tokens (a double-tapped "finish" records one visit).

Series: `service_slip` (FW-2026-000123, the ticket) and `dispatch` (PG-…, the dispatch slip) — the
first migration seeds both; inserted here again with ON CONFLICT DO NOTHING so this domain owns them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T18:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tickets: tickets, visits, visit parts, pauses, breaches, technician profiles"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"
TSN = "TIMESTAMPTZ DEFAULT NULL"

STATUSES = "'new', 'queued', 'assigned', 'on_way', 'on_site', 'done', 'not_done', 'signed', 'closed'"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            f"""CREATE TABLE tech_profile ({{pk}},
                user_id INTEGER NOT NULL UNIQUE REFERENCES app_user (id),
                office_id INTEGER DEFAULT NULL REFERENCES service_office (id),
                skills VARCHAR(200) NOT NULL DEFAULT '',
                resident BOOLEAN NOT NULL DEFAULT false,
                version INTEGER NOT NULL DEFAULT 1,
                updated_at {TS})""",
            f"""CREATE TABLE ticket ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                status VARCHAR(12) NOT NULL DEFAULT 'new' CHECK (status IN ({STATUSES})),
                customer_id INTEGER NOT NULL REFERENCES customer (id),
                customer_name VARCHAR(200) NOT NULL DEFAULT '',
                office_id INTEGER DEFAULT NULL REFERENCES service_office (id),
                device_id INTEGER DEFAULT NULL REFERENCES device (id),
                device_serial VARCHAR(80) NOT NULL DEFAULT '',
                device_model VARCHAR(100) NOT NULL DEFAULT '',
                channel VARCHAR(10) NOT NULL CHECK (channel IN ('phone', 'fax', 'email', 'web', 'onsite', 'remote')),
                contact_name VARCHAR(100) NOT NULL DEFAULT '',
                contact_phone VARCHAR(40) NOT NULL DEFAULT '',
                requested_service TEXT NOT NULL DEFAULT '',
                current_state TEXT NOT NULL DEFAULT '',
                fault_at {TSN},
                nature VARCHAR(20) NOT NULL DEFAULT '',
                category VARCHAR(20) NOT NULL DEFAULT '',
                fault_code VARCHAR(60) NOT NULL DEFAULT '',
                location VARCHAR(200) NOT NULL DEFAULT '',
                impact VARCHAR(10) NOT NULL DEFAULT 'partial' CHECK (impact IN ('stopped', 'partial', 'minor')),
                tried TEXT NOT NULL DEFAULT '',
                entitlement VARCHAR(12) NOT NULL DEFAULT 'none',
                contract_id INTEGER DEFAULT NULL,
                contract_number VARCHAR(40) NOT NULL DEFAULT '',
                warranty_end DATE DEFAULT NULL,
                billing VARCHAR(12) NOT NULL DEFAULT 'chargeable' CHECK (billing IN ('free', 'contract', 'chargeable')),
                area VARCHAR(10) NOT NULL DEFAULT 'city',
                service_mode VARCHAR(10) NOT NULL DEFAULT 'mobile' CHECK (service_mode IN ('mobile', 'resident')),
                assignee_id INTEGER DEFAULT NULL REFERENCES app_user (id),
                dispatch_number VARCHAR(40) DEFAULT NULL,
                cause TEXT NOT NULL DEFAULT '',
                spares TEXT NOT NULL DEFAULT '',
                tools TEXT NOT NULL DEFAULT '',
                dispatched_at {TSN},
                respond_due {TSN}, responded_at {TSN},
                depart_due {TSN}, departed_at {TSN},
                onsite_due {TSN}, arrived_at {TSN},
                fix_due {TSN}, fixed_at {TSN},
                cannot_solve_at {TSN},
                loaner_due {TSN},
                sla_due {TSN},
                paused_at {TSN},
                pause_reason VARCHAR(12) NOT NULL DEFAULT '',
                paused_seconds INTEGER NOT NULL DEFAULT 0,
                repeat_of INTEGER DEFAULT NULL REFERENCES ticket (id),
                result VARCHAR(16) NOT NULL DEFAULT '',
                bench_ref VARCHAR(60) NOT NULL DEFAULT '',
                created_by INTEGER DEFAULT NULL REFERENCES app_user (id),
                closed_at {TSN},
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE UNIQUE INDEX ticket_dispatch_number ON ticket (dispatch_number)",
            # list filters, newest first (keyset on id): status, office, technician, customer, channel
            "CREATE INDEX ticket_status ON ticket (status, id)",
            "CREATE INDEX ticket_office_status ON ticket (office_id, status, id)",
            "CREATE INDEX ticket_assignee ON ticket (assignee_id, status, id)",
            "CREATE INDEX ticket_customer ON ticket (customer_id, id)",
            "CREATE INDEX ticket_channel ON ticket (channel, id)",
            "CREATE INDEX ticket_device ON ticket (device_id, fault_code, id)",
            "CREATE INDEX ticket_sla_due ON ticket (sla_due)",
            "CREATE INDEX ticket_paused ON ticket (paused_at)",
            f"""CREATE TABLE ticket_visit ({{pk}},
                ticket_id INTEGER NOT NULL REFERENCES ticket (id),
                seq INTEGER NOT NULL CHECK (seq >= 1),
                status VARCHAR(12) NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'on_way', 'on_site', 'finished', 'signed', 'cancelled')),
                technician_id INTEGER NOT NULL REFERENCES app_user (id),
                called_at {TSN}, eta_at {TSN}, call_note VARCHAR(300) NOT NULL DEFAULT '',
                departed_at {TSN}, arrived_at {TSN}, finished_at {TSN},
                work_done TEXT NOT NULL DEFAULT '',
                result VARCHAR(16) NOT NULL DEFAULT ''
                    CHECK (result IN ('', 'done', 'return_repair', 'replacement', 'recontact')),
                work_stopped BOOLEAN NOT NULL DEFAULT false,
                slip_number INTEGER DEFAULT NULL,
                amount_fen BIGINT NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
                signer VARCHAR(100) NOT NULL DEFAULT '',
                satisfaction VARCHAR(12) NOT NULL DEFAULT ''
                    CHECK (satisfaction IN ('', 'very', 'satisfied', 'average', 'unhappy')),
                score INTEGER DEFAULT NULL,
                unhappy_reason VARCHAR(12) NOT NULL DEFAULT '' CHECK (unhappy_reason IN ('', 'attitude', 'skill', 'speed')),
                comment TEXT NOT NULL DEFAULT '',
                accessories VARCHAR(4) NOT NULL DEFAULT '' CHECK (accessories IN ('', 'yes', 'no', 'none')),
                signature_file VARCHAR(80) NOT NULL DEFAULT '',
                signed_at {TSN},
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE UNIQUE INDEX ticket_visit_seq ON ticket_visit (ticket_id, seq)",
            "CREATE INDEX ticket_visit_tech ON ticket_visit (technician_id, status, id)",
            # today's visits per technician (dispatch list, my day) without scanning their history
            "CREATE INDEX ticket_visit_tech_finished ON ticket_visit (technician_id, finished_at)",
            "CREATE INDEX ticket_visit_tech_signed ON ticket_visit (technician_id, signed_at)",
            "CREATE INDEX ticket_visit_status ON ticket_visit (status, ticket_id)",
            f"""CREATE TABLE ticket_visit_part ({{pk}},
                visit_id INTEGER NOT NULL REFERENCES ticket_visit (id),
                ticket_id INTEGER NOT NULL REFERENCES ticket (id),
                part_id INTEGER NOT NULL,
                part_no VARCHAR(60) NOT NULL DEFAULT '',
                part_name VARCHAR(200) NOT NULL DEFAULT '',
                qty INTEGER NOT NULL CHECK (qty > 0),
                serial VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE INDEX ticket_visit_part_visit ON ticket_visit_part (visit_id)",
            # R-TKT-05: each pause with its reason, who and when; not counted in the SLA
            f"""CREATE TABLE ticket_pause ({{pk}},
                ticket_id INTEGER NOT NULL REFERENCES ticket (id),
                reason VARCHAR(12) NOT NULL CHECK (reason IN ('customer', 'parts')),
                note VARCHAR(300) NOT NULL DEFAULT '',
                started_at TIMESTAMPTZ NOT NULL, started_by INTEGER DEFAULT NULL,
                ended_at {TSN}, ended_by INTEGER DEFAULT NULL)""",
            "CREATE INDEX ticket_pause_ticket ON ticket_pause (ticket_id, id)",
            # one open pause per ticket
            "CREATE UNIQUE INDEX ticket_pause_open ON ticket_pause (ticket_id) WHERE ended_at IS NULL",
            # R-TKT-05: a breach is recorded once per clock, at the moment it happened (the deadline)
            f"""CREATE TABLE ticket_breach ({{pk}},
                ticket_id INTEGER NOT NULL REFERENCES ticket (id),
                clock VARCHAR(10) NOT NULL CHECK (clock IN ('respond', 'depart', 'onsite', 'fix')),
                breached_at TIMESTAMPTZ NOT NULL,
                technician_id INTEGER DEFAULT NULL,
                office_id INTEGER DEFAULT NULL,
                noticed_at {TS})""",
            "CREATE UNIQUE INDEX ticket_breach_once ON ticket_breach (ticket_id, clock)",
            "CREATE INDEX ticket_breach_tech ON ticket_breach (technician_id, breached_at)",
            "CREATE INDEX ticket_breach_office ON ticket_breach (office_id, breached_at)",
            f"""CREATE TABLE ticket_form_token ({{pk}},
                token VARCHAR(60) NOT NULL UNIQUE,
                user_id INTEGER DEFAULT NULL,
                ticket_id INTEGER DEFAULT NULL,
                created_at {TS})""",
            "INSERT INTO doc_series (code, prefix, format, yearly, name_en, name_zh) VALUES "
            "('service_slip', 'FW', '{prefix}-{year}-{n:06d}', true, 'Service slip', '售后服务单') ON CONFLICT (code) DO NOTHING",
            "INSERT INTO doc_series (code, prefix, format, yearly, name_en, name_zh) VALUES "
            "('dispatch', 'PG', '{prefix}-{year}-{n:06d}', true, 'Dispatch slip', '故障处理派工单') ON CONFLICT (code) DO NOTHING",
        )

    manager.add_raw(run)
    return manager
