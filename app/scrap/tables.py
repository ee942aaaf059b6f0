"""Piccolo mirrors of migrations/shouhou_2026_11_29t18_00_00_000000_scrap.py (reads/typing only).

Every write goes through app.scrap.services (status moves through app.core.status.move())."""

from piccolo.columns import BigInt, Boolean, Date, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ScrapBatch(Table, tablename="scrap_batch"):
    """R-SCR-02: a month's quality-problem records gathered for one approval."""

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    month = Varchar(length=7)
    note = Text(default="")
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ScrapRequest(Table, tablename="scrap_request"):
    """R-SCR-01: the scrap record (报废品处理记录); status typed by app.scrap.status.ScrapStatus."""

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    status = Varchar(length=20, default="draft")
    part_id = Integer()
    serial_unit_id = Integer(null=True, default=None)
    serial = Varchar(length=100, default="")
    qty = Integer()
    part_no = Varchar(length=60, default="")
    part_name = Varchar(length=200, default="")
    model = Varchar(length=100, default="")
    supplier = Varchar(length=200, default="")
    reason = Varchar(length=20)
    note = Text(default="")
    source_type = Varchar(length=12, default="manual")
    source_ref = Varchar(length=60, default="")
    loan_id = Integer(null=True, default=None)
    loan_number = Varchar(length=40, default="")
    unit_cost_fen = BigInt(default=0)
    value_fen = BigInt()
    value_override_reason = Varchar(length=500, default="")
    batch_id = Integer(null=True, default=None)
    requested_by = Integer(null=True, default=None)
    requested_by_name = Varchar(length=100, default="")
    quorum = Integer(default=0)
    convened_by_name = Varchar(length=100, default="")
    convened_at = Timestamptz(null=True, default=None)
    appraisal_result = Varchar(length=20, default="")
    appraised_at = Timestamptz(null=True, default=None)
    gm_needed = Boolean(default=False)
    manager_by = Integer(null=True, default=None)
    manager_by_name = Varchar(length=100, default="")
    manager_at = Timestamptz(null=True, default=None)
    manager_note = Varchar(length=500, default="")
    gm_by = Integer(null=True, default=None)
    gm_by_name = Varchar(length=100, default="")
    gm_at = Timestamptz(null=True, default=None)
    gm_note = Varchar(length=500, default="")
    rejected_stage = Varchar(length=20, default="")
    rejected_by_name = Varchar(length=100, default="")
    rejected_at = Timestamptz(null=True, default=None)
    reject_note = Varchar(length=500, default="")
    returned_to = Varchar(length=12, default="")
    disposal_method = Varchar(length=20, default="")
    disposed_on = Date(null=True, default=None)
    disposed_by = Integer(null=True, default=None)
    disposed_by_name = Varchar(length=100, default="")
    disposal_note = Varchar(length=500, default="")
    disposal_move_id = Integer(null=True, default=None)
    loan_converted_at = Timestamptz(null=True, default=None)
    loan_note = Varchar(length=500, default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ScrapAppraiser(Table, tablename="scrap_appraiser"):
    """R-SCR-01/03: one seat in the temporary technical appraisal group of a record."""

    id = Serial(primary_key=True)
    request_id = Integer()
    user_id = Integer()
    user_name = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ScrapOpinion(Table, tablename="scrap_opinion"):
    """R-SCR-03: one appraiser's opinion, once per record (UNIQUE (request_id, user_id))."""

    id = Serial(primary_key=True)
    request_id = Integer()
    user_id = Integer()
    user_name = Varchar(length=100, default="")
    opinion = Varchar(length=20)
    note = Varchar(length=1000, default="")
    created_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES = [ScrapBatch, ScrapRequest, ScrapAppraiser, ScrapOpinion]


class ScrapPhoto(Table, tablename="scrap_photo"):
    """Photos of the item (issue #14 item 1): a verified JPEG/PNG stored under a random name."""

    id = Serial(primary_key=True)
    request_id = Integer()
    stored_name = Varchar(length=60, unique=True)
    original_name = Varchar(length=200, default="")
    content_type = Varchar(length=40)
    size = Integer()
    user_id = Integer(null=True, default=None)
    user_name = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES.append(ScrapPhoto)
