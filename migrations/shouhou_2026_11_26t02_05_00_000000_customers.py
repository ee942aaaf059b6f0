"""Customers (issue #3): offices, customers + contacts, contracts (+ QYBS stage history),
installed devices + failure/repair events, renewal notices, price list, hand-over documents."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: archive, contracts, installed devices, warranty events, price list, documents"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"

# Appendix 2 of SPEC (seed 000): code, system, English, Chinese, unit en, unit zh, basis, tiers [(min, price ¥, note)]
# basis: "qty" = tier by number of units; "capacity" = tier by each unit's ports / watts.
PRICE_LIST = [
    ("network_point", "network", "Information point", "信息点", "point", "点", "qty", [(1, 50, "")]),
    ("switch", "network", "Switch", "交换机", "unit", "台", "qty",
     [(1, 400, "1–5台"), (6, 360, "6–10台"), (11, 320, "10台以上")]),
    ("server", "network", "Server", "服务器", "unit", "台", "qty", [(1, 800, "")]),
    ("pc", "network", "PC", "电脑", "unit", "台", "qty", [(1, 80, "")]),
    ("voice_point", "telephone", "Voice point", "语音点", "point", "点", "qty", [(1, 50, "")]),
    ("pbx", "telephone", "PBX (ports incl. trunks)", "程控交换机（含中继）", "unit", "台", "capacity",
     [(0, 600, "≤50门"),
      (51, 1000, "≤100门：原文印为¥100，应为¥1,000（SPEC R-CUS-03）"),
      (101, 1500, "≥150门（101–149门原文未列，按≥150门计）"),
      (200, 1800, "≥200门"), (300, 3000, "≥300门")]),
    ("billing_software", "telephone", "Call-billing software", "计费软件", "set", "套", "qty", [(1, 380, "")]),
    ("speaker", "broadcast", "Speaker", "音箱", "each", "只", "qty", [(1, 40, "")]),
    ("amplifier", "broadcast", "Amplifier (watts)", "功放（功率）", "unit", "台", "capacity",
     [(0, 450, "<800W"), (800, 600, "800–1500W"), (1501, 800, ">1500W")]),
    ("camera", "cctv", "Camera (terminal)", "摄像机（终端）", "each", "只", "qty", [(1, 150, "")]),
    ("cctv_host", "cctv", "Host (DVR / NVR)", "主机（硬盘录像机）", "unit", "台", "qty", [(1, 800, "")]),
    ("cctv_aux", "cctv", "Auxiliary device", "辅助设备", "unit", "台", "qty", [(1, 80, "")]),
    ("detector", "intrusion", "Detector", "探测器", "each", "只", "qty", [(1, 60, "")]),
    ("alarm_host", "intrusion", "Alarm host", "报警主机", "unit", "台", "qty", [(1, 500, "")]),
    ("attendance", "onecard", "Attendance terminal", "考勤机", "unit", "台", "qty", [(1, 800, "")]),
    ("door_controller", "onecard", "Door controller", "门禁控制器", "unit", "台", "qty", [(1, 300, "")]),
    ("canteen_pos", "onecard", "Canteen POS", "食堂消费机", "unit", "台", "qty", [(1, 800, "")]),
    ("onecard_software", "onecard", "One-card software", "一卡通软件", "set", "套", "qty", [(1, 800, "")]),
]

SETTINGS = [
    # R-CUS-04 default hardware term, R-CUS-05 extension per unresolvable failure, R-CUS-07 reminder window.
    ("customers.default_warranty_months", "36"),
    ("customers.warranty_extension_days", "60"),
    ("customers.renewal_days", "10"),
    ("customers.upload_max_mb", "20"),
]


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        sqlite = ddl.dialect() == "sqlite"
        nocase = " COLLATE NOCASE" if sqlite else ""
        await ddl.run(
            f"""CREATE TABLE service_office ({{pk}},
                code VARCHAR(20) NOT NULL UNIQUE,
                name VARCHAR(100) NOT NULL,
                city VARCHAR(60) NOT NULL DEFAULT '',
                address VARCHAR(300) NOT NULL DEFAULT '',
                phone VARCHAR(40) NOT NULL DEFAULT '',
                is_active BOOLEAN NOT NULL DEFAULT true)""",
            # R-CUS-01: class key = 大客户 (monthly-settled), retail = 零散.
            f"""CREATE TABLE customer ({{pk}},
                name VARCHAR(200) NOT NULL,
                customer_class VARCHAR(10) NOT NULL DEFAULT 'retail' CHECK (customer_class IN ('key', 'retail')),
                office_id INTEGER NOT NULL REFERENCES service_office (id),
                address VARCHAR(300) NOT NULL DEFAULT '',
                area VARCHAR(10) NOT NULL DEFAULT 'city' CHECK (area IN ('city', 'suburb')),
                distance_km NUMERIC(8, 1) NOT NULL DEFAULT 0 CHECK (distance_km >= 0),
                phone VARCHAR(40) NOT NULL DEFAULT '',
                notes TEXT NOT NULL DEFAULT '',
                search_text TEXT NOT NULL DEFAULT '',
                device_count INTEGER NOT NULL DEFAULT 0,
                is_active BOOLEAN NOT NULL DEFAULT true,
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            "CREATE INDEX customer_name ON customer (name, id)",
            "CREATE INDEX customer_office ON customer (office_id, name, id)",
            "CREATE INDEX customer_class ON customer (customer_class, name, id)",
            f"""CREATE TABLE customer_contact ({{pk}},
                customer_id INTEGER NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
                name VARCHAR(100) NOT NULL,
                phone VARCHAR(40) NOT NULL DEFAULT '',
                role VARCHAR(100) NOT NULL DEFAULT '',
                sort INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX customer_contact_customer ON customer_contact (customer_id, sort)",
            "CREATE INDEX customer_contact_phone ON customer_contact (phone)",
            # R-CUS-02: contract types, QYBS stage, SLA + billing policy read by tickets / ledger.
            f"""CREATE TABLE contract ({{pk}},
                number VARCHAR(40) NOT NULL UNIQUE,
                customer_id INTEGER NOT NULL REFERENCES customer (id),
                contract_type VARCHAR(12) NOT NULL CHECK (contract_type IN ('warranty', 'annual', 'per_visit', 'liaison')),
                title VARCHAR(200) NOT NULL DEFAULT '',
                start_date DATE NOT NULL,
                end_date DATE NOT NULL,
                status VARCHAR(12) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'terminated')),
                stage VARCHAR(1) NOT NULL DEFAULT 'Q' CHECK (stage IN ('Q', 'Y', 'B', 'S')),
                response_hours INTEGER NOT NULL DEFAULT 1 CHECK (response_hours > 0),
                onsite_hours_city INTEGER NOT NULL DEFAULT 2 CHECK (onsite_hours_city > 0),
                onsite_hours_suburb INTEGER NOT NULL DEFAULT 12 CHECK (onsite_hours_suburb > 0),
                warranty_months INTEGER NOT NULL DEFAULT 36 CHECK (warranty_months >= 0 AND warranty_months <= 240),
                tariff_policy VARCHAR(30) NOT NULL DEFAULT 'standard',
                amount_fen BIGINT NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
                notes TEXT NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS},
                CHECK (end_date >= start_date))""",
            "CREATE INDEX contract_customer ON contract (customer_id, end_date)",
            "CREATE INDEX contract_end ON contract (end_date, id)",
            f"""CREATE TABLE contract_stage_change ({{pk}},
                contract_id INTEGER NOT NULL REFERENCES contract (id),
                from_stage VARCHAR(1) NOT NULL DEFAULT '',
                to_stage VARCHAR(1) NOT NULL,
                note VARCHAR(500) NOT NULL DEFAULT '',
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(60) NOT NULL DEFAULT '',
                changed_at {TS})""",
            "CREATE INDEX contract_stage_change_contract ON contract_stage_change (contract_id, id)",
            *ddl.append_only("contract_stage_change"),
            # R-CUS-04: installed base. serial is stored upper-case; warranty_end is the engine's
            # result (R-CUS-05) kept here so reminders and filters use an index.
            f"""CREATE TABLE device ({{pk}},
                serial VARCHAR(80){nocase} NOT NULL,
                brand VARCHAR(60) NOT NULL DEFAULT '',
                product_name VARCHAR(200) NOT NULL DEFAULT '',
                model VARCHAR(100) NOT NULL DEFAULT '',
                system VARCHAR(20) NOT NULL DEFAULT 'other',
                kind VARCHAR(30) NOT NULL DEFAULT '',
                capacity INTEGER DEFAULT NULL CHECK (capacity IS NULL OR capacity >= 0),
                customer_id INTEGER NOT NULL REFERENCES customer (id),
                contract_id INTEGER DEFAULT NULL REFERENCES contract (id),
                site VARCHAR(200) NOT NULL DEFAULT '',
                install_date DATE DEFAULT NULL,
                acceptance_date DATE DEFAULT NULL,
                warranty_months INTEGER DEFAULT NULL CHECK (warranty_months IS NULL OR (warranty_months >= 0 AND warranty_months <= 240)),
                warranty_end DATE DEFAULT NULL,
                extension_events INTEGER NOT NULL DEFAULT 0,
                replacement_proposed BOOLEAN NOT NULL DEFAULT false,
                notes TEXT NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS},
                CHECK (acceptance_date IS NULL OR install_date IS NULL OR acceptance_date >= install_date))""",
            "CREATE UNIQUE INDEX device_serial ON device (serial)",
            "CREATE INDEX device_customer ON device (customer_id, id)",
            "CREATE INDEX device_contract ON device (contract_id)",
            "CREATE INDEX device_warranty_end ON device (warranty_end, id)",
            "CREATE INDEX device_system ON device (system, id)",
            f"""CREATE TABLE device_event ({{pk}},
                device_id INTEGER NOT NULL REFERENCES device (id),
                event_type VARCHAR(12) NOT NULL CHECK (event_type IN ('failure', 'repair', 'replacement', 'note')),
                fault_code VARCHAR(60) NOT NULL DEFAULT '',
                unresolvable BOOLEAN NOT NULL DEFAULT false,
                occurred_on DATE NOT NULL,
                description VARCHAR(1000) NOT NULL DEFAULT '',
                source_type VARCHAR(30) NOT NULL DEFAULT '',
                source_id VARCHAR(60) NOT NULL DEFAULT '',
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(60) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE INDEX device_event_device ON device_event (device_id, id)",
            *ddl.append_only("device_event"),
            # R-CUS-07: one row per notice sent for a contract / warranty ending on end_date.
            f"""CREATE TABLE renewal_notice ({{pk}},
                subject_type VARCHAR(10) NOT NULL CHECK (subject_type IN ('contract', 'device')),
                subject_id INTEGER NOT NULL,
                customer_id INTEGER NOT NULL REFERENCES customer (id),
                end_date DATE NOT NULL,
                sent_on DATE NOT NULL,
                method VARCHAR(20) NOT NULL,
                note VARCHAR(500) NOT NULL DEFAULT '',
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(60) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX renewal_notice_subject ON renewal_notice (subject_type, subject_id, end_date)",
            # R-CUS-03: editable tiered price list.
            f"""CREATE TABLE price_item ({{pk}},
                code VARCHAR(30) NOT NULL UNIQUE,
                system VARCHAR(20) NOT NULL,
                name_en VARCHAR(100) NOT NULL,
                name_zh VARCHAR(100) NOT NULL,
                unit_en VARCHAR(20) NOT NULL DEFAULT '',
                unit_zh VARCHAR(20) NOT NULL DEFAULT '',
                basis VARCHAR(10) NOT NULL DEFAULT 'qty' CHECK (basis IN ('qty', 'capacity')),
                sort INTEGER NOT NULL DEFAULT 0)""",
            f"""CREATE TABLE price_tier ({{pk}},
                item_id INTEGER NOT NULL REFERENCES price_item (id),
                min_value INTEGER NOT NULL DEFAULT 0 CHECK (min_value >= 0),
                price_fen BIGINT NOT NULL CHECK (price_fen >= 0),
                note VARCHAR(300) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                updated_at {TS})""",
            "CREATE UNIQUE INDEX price_tier_item_min ON price_tier (item_id, min_value)",
            # R-CUS-08: hand-over documents; files live in var/uploads/ under random names.
            f"""CREATE TABLE customer_document ({{pk}},
                customer_id INTEGER NOT NULL REFERENCES customer (id),
                contract_id INTEGER DEFAULT NULL REFERENCES contract (id),
                kind VARCHAR(20) NOT NULL DEFAULT 'other' CHECK (kind IN ('drawing', 'manual', 'device_list', 'acceptance', 'other')),
                title VARCHAR(200) NOT NULL DEFAULT '',
                original_name VARCHAR(255) NOT NULL,
                stored_name VARCHAR(80) NOT NULL UNIQUE,
                content_type VARCHAR(100) NOT NULL,
                size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
                sha256 VARCHAR(64) NOT NULL,
                is_deleted BOOLEAN NOT NULL DEFAULT false,
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(60) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE INDEX customer_document_customer ON customer_document (customer_id, id)",
        )
        if not sqlite:
            # LIKE 'ABC%' on serials uses an index whatever the database collation.
            await ddl.run("CREATE INDEX device_serial_prefix ON device (serial text_pattern_ops)")
        await ddl.run(
            "INSERT INTO doc_series (code, prefix, format, yearly, name_en, name_zh) VALUES "
            "('contract', 'HT', '{prefix}-{year}-{n:06d}', true, 'Service contract', '服务合同')"
        )
        for key, value in SETTINGS:
            await ddl.run(
                f"INSERT INTO app_setting (key, value, updated_at) VALUES ({_q(key)}, {_q(value)}, current_timestamp) "
                "ON CONFLICT (key) DO NOTHING"
            )
        for sort, (code, system, name_en, name_zh, unit_en, unit_zh, basis, tiers) in enumerate(PRICE_LIST):
            await ddl.run(
                "INSERT INTO price_item (code, system, name_en, name_zh, unit_en, unit_zh, basis, sort) VALUES "
                f"({_q(code)}, {_q(system)}, {_q(name_en)}, {_q(name_zh)}, {_q(unit_en)}, {_q(unit_zh)}, {_q(basis)}, {sort})"
            )
            for min_value, price, note in tiers:
                await ddl.run(
                    "INSERT INTO price_tier (item_id, min_value, price_fen, note, version, updated_at) "
                    f"SELECT id, {min_value}, {price * 100}, {_q(note)}, 1, current_timestamp FROM price_item WHERE code = {_q(code)}"
                )

    manager.add_raw(run)
    return manager
