"""Foundation (issue #2): users, sessions, login attempts, audit log, settings, document numbers."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T01:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "foundation: accounts, sessions, audit (append-only), settings, gapless numbers"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            f"""CREATE TABLE app_user ({{pk}},
                username VARCHAR(60) NOT NULL UNIQUE,
                full_name VARCHAR(100) NOT NULL DEFAULT '',
                phone VARCHAR(40) NOT NULL DEFAULT '',
                password_hash TEXT NOT NULL DEFAULT '',
                roles VARCHAR(200) NOT NULL DEFAULT '',
                is_active BOOLEAN NOT NULL DEFAULT true,
                lang VARCHAR(8) NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                created_at {TS}, updated_at {TS})""",
            f"""CREATE TABLE user_session ({{pk}},
                token_hash VARCHAR(64) NOT NULL UNIQUE,
                user_id INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
                created_at {TS}, last_seen_at {TS},
                ip VARCHAR(64) NOT NULL DEFAULT '',
                user_agent VARCHAR(300) NOT NULL DEFAULT '')""",
            "CREATE INDEX user_session_user ON user_session (user_id)",
            f"""CREATE TABLE login_attempt ({{pk}},
                username VARCHAR(60) NOT NULL DEFAULT '',
                ip VARCHAR(64) NOT NULL DEFAULT '',
                success BOOLEAN NOT NULL DEFAULT false,
                created_at {TS})""",
            "CREATE INDEX login_attempt_user ON login_attempt (username, created_at)",
            "CREATE INDEX login_attempt_ip ON login_attempt (ip, created_at)",
            f"""CREATE TABLE audit_event ({{pk}},
                created_at {TS},
                user_id INTEGER DEFAULT NULL,
                username VARCHAR(60) NOT NULL DEFAULT '',
                roles VARCHAR(200) NOT NULL DEFAULT '',
                action VARCHAR(80) NOT NULL,
                entity_type VARCHAR(60) NOT NULL DEFAULT '',
                entity_id VARCHAR(60) NOT NULL DEFAULT '',
                before JSON DEFAULT NULL,
                after JSON DEFAULT NULL,
                request_id VARCHAR(40) NOT NULL DEFAULT '',
                ip VARCHAR(64) NOT NULL DEFAULT '')""",
            # Indexes match the audit page filters; all list newest first (keyset on id).
            "CREATE INDEX audit_event_user ON audit_event (user_id, id)",
            "CREATE INDEX audit_event_action ON audit_event (action, id)",
            "CREATE INDEX audit_event_entity ON audit_event (entity_type, entity_id, id)",
            "CREATE INDEX audit_event_created ON audit_event (created_at)",
            *ddl.append_only("audit_event"),
            f"""CREATE TABLE app_setting ({{pk}},
                key VARCHAR(100) NOT NULL UNIQUE,
                value JSON NOT NULL DEFAULT 'null',
                updated_at {TS})""",
            f"""CREATE TABLE doc_series ({{pk}},
                code VARCHAR(40) NOT NULL UNIQUE,
                prefix VARCHAR(20) NOT NULL DEFAULT '',
                format VARCHAR(80) NOT NULL DEFAULT '{{prefix}}-{{year}}-{{n:06d}}',
                yearly BOOLEAN NOT NULL DEFAULT true,
                name_en VARCHAR(100) NOT NULL DEFAULT '',
                name_zh VARCHAR(100) NOT NULL DEFAULT '')""",
            f"""CREATE TABLE doc_counter ({{pk}},
                series VARCHAR(40) NOT NULL,
                period INTEGER NOT NULL DEFAULT 0,
                last_value INTEGER NOT NULL DEFAULT 0 CHECK (last_value >= 0))""",
            "CREATE UNIQUE INDEX doc_counter_series_period ON doc_counter (series, period)",
            f"""CREATE TABLE doc_number ({{pk}},
                series VARCHAR(40) NOT NULL,
                period INTEGER NOT NULL DEFAULT 0,
                number INTEGER NOT NULL,
                formatted VARCHAR(80) NOT NULL,
                entity_type VARCHAR(60) NOT NULL DEFAULT '',
                entity_id VARCHAR(60) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE UNIQUE INDEX doc_number_series_number ON doc_number (series, period, number)",
            "CREATE UNIQUE INDEX doc_number_series_formatted ON doc_number (series, formatted)",
        )
        from app.core.numbers import DEFAULT_SERIES

        for code, prefix, name_en, name_zh in DEFAULT_SERIES:
            await ddl.run(
                "INSERT INTO doc_series (code, prefix, format, yearly, name_en, name_zh) VALUES "
                f"('{code}', '{prefix}', '{{prefix}}-{{year}}-{{n:06d}}', true, '{name_en}', '{name_zh}')"
            )

    manager.add_raw(run)
    return manager
