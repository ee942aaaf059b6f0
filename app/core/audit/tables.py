"""Append-only audit log (X-03); UPDATE/DELETE refused by database triggers."""

from piccolo.columns import JSON, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    id = Serial(primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())
    user_id = Integer(null=True, default=None)
    username = Varchar(length=60, default="")
    roles = Varchar(length=200, default="")
    action = Varchar(length=80)  # domain.verb, e.g. stock.issued, rma.moved
    entity_type = Varchar(length=60, default="")
    entity_id = Varchar(length=60, default="")
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    request_id = Varchar(length=40, default="")
    ip = Varchar(length=64, default="")
