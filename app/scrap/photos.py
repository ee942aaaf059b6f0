"""Photos of the item to be scrapped (issue #14, item 1): JPEG or PNG only (extension and first bytes
must agree), at most `scrap.photo_max_mb`, stored under a random name in the upload directory
(SHOUHOU_UPLOAD_DIR or var/uploads)/scrap; the file is written off the event loop."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import anyio

from app.core.uploads import MARKUP
from app.core.actor import Actor
from app.core.audit.services import record
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import fix, not_found
from app.core.i18n import _
from app.core.permissions import require
from app.core.rows import insert
from app.core.settings import setting
from app.scrap.services import person_name
from app.scrap.tables import ScrapPhoto

TYPES = {"jpg": ("image/jpeg", b"\xff\xd8\xff"), "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
         "png": ("image/png", b"\x89PNG\r\n\x1a\n")}


def photo_dir() -> Path:
    from app.core.config import BASE_DIR

    path = Path(os.environ.get("SHOUHOU_UPLOAD_DIR") or (BASE_DIR / "var" / "uploads")) / "scrap"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def add_photo(actor: Actor, request_id: int, filename: str, data: bytes) -> int:
    """One photo of the item. Side effects: the file, a scrap_photo row, audit `scrap.photo_added`."""
    require(actor, "scrap.raise", "scrap.appraise")
    name = (filename or "").strip().replace("\\", "/").split("/")[-1][:200]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in TYPES:
        raise fix(photo=_("Photos are JPEG or PNG files."))
    content_type, magic = TYPES[ext]
    if not data:
        raise fix(photo=_("Choose a photo."))
    if not data.startswith(magic) or MARKUP.search(data):  # a PNG/HTML polyglot is not a photo (#11.10)
        raise fix(photo=_("This file is not a JPEG or PNG image."))
    limit = int(await setting("scrap.photo_max_mb"))
    if len(data) > limit * 1024 * 1024:
        raise fix(photo=_("At most %(n)s MB per photo.", n=limit))
    if not await fetch("SELECT id FROM scrap_request WHERE id = {}", request_id):
        raise not_found()
    stored = f"{secrets.token_hex(16)}.{'jpg' if ext == 'jpeg' else ext}"
    path = photo_dir() / stored
    await anyio.Path(path).write_bytes(data)
    try:
        async with write_transaction():
            photo_id = await insert(ScrapPhoto, returning=ScrapPhoto.id, request_id=request_id, stored_name=stored,
                                    original_name=name, content_type=content_type, size=len(data),
                                    user_id=actor.user_id, user_name=await person_name(actor), created_at=utcnow())
            await record(actor, "scrap.photo_added", "scrap_request", request_id, after={"photo": name, "size": len(data)})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return int(photo_id)


async def photos(request_id: int) -> list[dict]:
    return await fetch("SELECT * FROM scrap_photo WHERE request_id = {} ORDER BY id", request_id)


async def read_photo(photo_id: int) -> tuple[dict, bytes]:
    rows = await fetch("SELECT * FROM scrap_photo WHERE id = {}", photo_id)
    if not rows:
        raise not_found()
    path = anyio.Path(photo_dir() / rows[0]["stored_name"])
    if not await path.exists():
        raise not_found()
    return rows[0], await path.read_bytes()
