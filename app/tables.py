"""Index of every domain's Table classes (for Piccolo's app registry)."""


def all_tables() -> list:
    from app.accounts.tables import AppUser, LoginAttempt, UserSession
    from app.audit.tables import AuditEvent
    from app.core.tables import AppSetting, DocCounter, DocNumber, DocSeries

    from app.customers.tables import TABLES as CUSTOMER_TABLES

    return [AppUser, UserSession, LoginAttempt, AuditEvent, AppSetting, DocSeries, DocCounter, DocNumber, *CUSTOMER_TABLES]
