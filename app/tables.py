"""Index of every domain's Table classes (for Piccolo's app registry)."""


def all_tables() -> list:
    from app.accounts.tables import AppUser, LoginAttempt, UserSession
    from app.audit.tables import AuditEvent
    from app.core.tables import AppSetting, DocCounter, DocNumber, DocSeries

    from app.customers.tables import TABLES as CUSTOMER_TABLES
    from app.rma.tables import ALL as RMA_TABLES
    from app.parts.tables import ALL_TABLES as PARTS_TABLES
    from app.ledger.tables import ALL as LEDGER_TABLES
    from app.loaners.tables import ALL_TABLES as LOANER_TABLES

    return [AppUser, UserSession, LoginAttempt, AuditEvent, AppSetting, DocSeries, DocCounter, DocNumber, *CUSTOMER_TABLES, *PARTS_TABLES, *LEDGER_TABLES, *LOANER_TABLES, *RMA_TABLES]
