"""Cross-domain tables: settings and gapless document numbers (X-02)."""

from piccolo.columns import JSON, BigInt, Boolean, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AppSetting(Table, tablename="app_setting"):
    """Operator-editable values (every number a seed gives is data, SPEC preamble)."""

    id = Serial(primary_key=True)
    key = Varchar(length=100, unique=True)
    value = JSON(default="null")
    updated_at = Timestamptz(default=TimestamptzNow())


class DocSeries(Table, tablename="doc_series"):
    """A document series: `format` uses {prefix} {year} {n} (e.g. `{prefix}-{year}-{n:06d}`)."""

    id = Serial(primary_key=True)
    code = Varchar(length=40, unique=True)
    prefix = Varchar(length=20)
    format = Varchar(length=80, default="{prefix}-{year}-{n:06d}")
    yearly = Boolean(default=True)
    name_en = Varchar(length=100, default="")
    name_zh = Varchar(length=100, default="")


class DocCounter(Table, tablename="doc_counter"):
    """Last number drawn per (series, period); bumped in the document's own transaction."""

    id = Serial(primary_key=True)
    series = Varchar(length=40)
    period = Integer(default=0)
    last_value = Integer(default=0)


class DocNumber(Table, tablename="doc_number"):
    """Every number ever committed: UNIQUE(series, period, number) and UNIQUE(series, formatted)."""

    id = Serial(primary_key=True)
    series = Varchar(length=40)
    period = Integer(default=0)
    number = Integer()
    formatted = Varchar(length=80)
    entity_type = Varchar(length=60, default="")
    entity_id = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class StatusChange(Table, tablename="status_change"):
    """One row per status move made through core.status.move(); append-only (triggers)."""

    id = Serial(primary_key=True)
    table_name = Varchar(length=40)
    row_id = BigInt()
    version = Integer()
    from_status = Varchar(length=30, default="")
    to_status = Varchar(length=30)
    action = Varchar(length=40, default="")
    user_id = Integer(null=True, default=None)
    username = Varchar(length=100, default="")
    display_name = Varchar(length=100, default="")
    note = Varchar(length=1000, default="")
    created_at = Timestamptz(default=TimestamptzNow())
