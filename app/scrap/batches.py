"""R-SCR-02: monthly, the parts with quality problems are gathered into one batch and submitted for
approval together: the keeper gathers the month's quality-defect drafts into a numbered batch (series
BFPC, one per month) and convenes one appraisal group for all of them; each record then follows the
normal appraisal → manager → GM → disposal path (R-SCR-03). The report by supplier is for the quality
department (it joins the bench's monthly report, R-RMA-08)."""

from __future__ import annotations

from app.core.actor import Actor
from app.core.audit.services import record
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError, fix
from app.core.i18n import _
from app.core.numbers import attach_entity, next_number
from app.core.permissions import require
from app.core.status import update_versioned
from app.scrap import queries, services
from app.scrap.schemas import BatchInput, ConveneInput


async def batch_for(month: str) -> dict | None:
    rows = await fetch("SELECT * FROM scrap_batch WHERE month = {}", month)
    return rows[0] if rows else None


async def gather(actor: Actor, data: BatchInput) -> str:
    """Gather the month's quality-defect drafts not yet in a batch into the month's batch (made on first use).
    Side effects: scrap_batch row (BFPC number), batch_id on each record; audit `scrap.batch_gathered`."""
    require(actor, "scrap.raise")
    drafts = [r for r in await queries.quality_candidates(data.month) if r["status"] == "draft" and r["batch_id"] is None]
    if not drafts:
        raise fix(month=_("No quality-defect draft of this month is waiting for a batch."))
    async with write_transaction():
        batch = await batch_for(data.month)
        if batch is None:
            number = (await next_number("scrap_batch", entity_type="scrap_batch")).formatted
            # raw-sql: ON CONFLICT (month) DO NOTHING RETURNING * — one batch per month under a race
            rows = await fetch(
                "INSERT INTO scrap_batch (number, month, note, created_by, created_by_name, created_at) VALUES "
                "({}, {}, {}, {}, {}, {}) ON CONFLICT (month) DO NOTHING RETURNING *",
                number, data.month, data.note, actor.user_id, await services.person_name(actor), utcnow())
            if not rows:
                raise DomainError(_("Someone else made this month's batch meanwhile. Reload and try again."), status=409)
            batch = rows[0]
            await attach_entity("scrap_batch", number, batch["id"])
        for row in drafts:
            # a plain edit of a draft: compare-and-set on "still a draft without a batch"
            await update_versioned(services.TABLE, row["id"], None, {"batch_id": batch["id"]},
                                   where="status = 'draft' AND batch_id IS NULL")
        await record(actor, "scrap.batch_gathered", "scrap_batch", batch["id"],
                     after={"number": batch["number"], "month": data.month, "records": [r["number"] for r in drafts]})
    return batch["number"]


async def convene_batch(actor: Actor, month: str, data: ConveneInput) -> int:
    """Convene one appraisal group for every draft of the month's batch (same rules as one record).
    Each record is its own transaction: a record that cannot be convened stops the loop with its message."""
    require(actor, "scrap.raise")
    batch = await batch_for(month)
    if batch is None:
        raise fix(month=_("Gather the month's batch first."))
    rows = await fetch("SELECT id, version FROM scrap_request WHERE batch_id = {} AND status = 'draft' ORDER BY id",
                       batch["id"])
    if not rows:
        raise DomainError(_("Every record of this batch is already with its appraisal group."), status=409)
    for row in rows:
        await services.convene(actor, row["id"], ConveneInput(version=row["version"], appraisers=data.appraisers))
    return len(rows)
