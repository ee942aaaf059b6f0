"""R-CUS-08: hand-over documents (as-built drawings, manuals, device lists) on a customer
or one of its contracts (the project).

Files are stored under `var/uploads/customers/` (env `SHOUHOU_UPLOAD_DIR` moves the root)
with random names; the original name is kept only as data. Size limit: setting
`customers.upload_max_mb` (20). Types: an allow-list by extension *and* by the file's
first bytes; HTML, SVG and scripts are never accepted. Downloads are always served as
attachments with a fixed safe content type (never inline, never sniffed).

Polyglots (issue #11.10): no image library is installed (no Pillow), so images are not decoded
and re-encoded; instead a PNG is rebuilt chunk by chunk (CRCs checked, only image chunks kept:
text chunks and anything after IEND dropped) and a JPEG is re-cut segment by segment up to its
end marker (comments and trailing data dropped). Any image, PDF, drawing or text file with markup
(`<script`, `<html`, `<svg`, `<!doctype` …) anywhere in it, in any letter case, is refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import struct
import zipfile
import zlib
from pathlib import Path

from app.core.audit.services import Actor, record
from app.core.uploads import MARKUP, PNG_KEEP, PNG_SIGNATURE, rebuild_jpeg, rebuild_png  # noqa: F401  (shared)
from app.core.config import BASE_DIR
from app.core.db import atomic, fetch, utcnow
from app.core.errors import fix, not_found
from app.core.rows import insert, update
from app.customers.tables import CustomerDocument
from app.core.i18n import _, lazy_gettext as _l
from app.core.settings import setting

KINDS = {"drawing": _l("As-built drawing"), "manual": _l("Manual"), "device_list": _l("Device list"),
         "acceptance": _l("Acceptance record"), "other": _l("Other")}

OOXML = "ooxml"
# extension → (content type served, accepted signatures (None = plain text check))
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "dwg": ("application/acad", (b"AC10",)),
    "dxf": ("application/dxf", None),
    "txt": ("text/plain; charset=utf-8", None),
    "csv": ("text/csv; charset=utf-8", None),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    "zip": ("application/zip", (b"PK\x03\x04",)),
}
# Markup a browser would render, looked for in the WHOLE file of every type that is not a zip
# container (tags of five letters or more: a chance match in binary data is negligible).
TEXT_MARKUP = re.compile(rb"<\s*(?:script|html|svg|!doctype|iframe|body|object|embed|frameset|\?xml|head|meta|link|style|"
                         rb"form|img|a|base|math|template)\b", re.IGNORECASE)
CONTAINERS = {"docx", "xlsx", "pptx", "zip"}


def upload_root() -> Path:
    return Path(os.environ.get("SHOUHOU_UPLOAD_DIR") or (BASE_DIR / "var" / "uploads"))


def customer_dir() -> Path:
    path = upload_root() / "customers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def extension(filename: str) -> str:
    name = Path(str(filename or "").replace("\\", "/")).name
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def safe_name(filename: str) -> str:
    name = Path(str(filename or "").replace("\\", "/")).name.strip().replace("\x00", "")
    return name[:255] or "file"


def clean_content(ext: str, data: bytes) -> bytes | None:
    """What is stored for an upload: the bytes (images rebuilt), or None when the content does not
    match its extension or holds markup anywhere (issue #11.10)."""
    if not check_content(ext, data):
        return None
    if ext == "png":
        return rebuild_png(data)
    if ext in ("jpg", "jpeg"):
        return rebuild_jpeg(data)
    return data


def check_content(ext: str, data: bytes) -> bool:
    """The file's first bytes match what its extension claims; no markup anywhere in it."""
    if ext not in ALLOWED:
        return False
    signatures = ALLOWED[ext][1]
    if signatures is None:
        if b"\x00" in data or TEXT_MARKUP.search(data):
            return False
        return True
    if ext not in CONTAINERS and MARKUP.search(data):
        return False
    if not any(data.startswith(sig) for sig in signatures):
        return False
    if ext in ("docx", "xlsx", "pptx"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "[Content_Types].xml" in archive.namelist()
        except zipfile.BadZipFile:
            return False
    return True


async def max_bytes() -> int:
    return await setting("customers.upload_max_mb") * 1024 * 1024


async def save_document(actor: Actor, customer_id: int, *, filename: str, data: bytes, kind: str = "other",
                        title: str = "", contract_id: int | None = None) -> int:
    """Store one upload. Side effects: a file under var/uploads/customers/, a customer_document
    row; audit `document.uploaded`. Refused (nothing written): empty, too big, wrong type."""
    ext = extension(filename)
    limit = await max_bytes()
    if kind not in KINDS:
        raise fix(kind=_("Choose the kind of document."))
    if not data:
        raise fix(file=_("Choose a file to upload."))
    if len(data) > limit:
        raise fix(file=_("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)))
    if ext not in ALLOWED:
        raise fix(file=_("This file type is not accepted. Allowed: %(types)s.", types=", ".join(sorted(ALLOWED))))
    cleaned = clean_content(ext, data)
    if cleaned is None:
        raise fix(file=_("The file's content does not match its type (.%(ext)s).", ext=ext))
    data = cleaned
    title = (title or "").strip()[:200]
    original = safe_name(filename)
    stored = secrets.token_hex(16)
    digest = hashlib.sha256(data).hexdigest()
    path = customer_dir() / stored
    async with atomic():
        if not await fetch("SELECT id FROM customer WHERE id = {}", customer_id):
            raise not_found(_("No such customer."))
        if contract_id and not await fetch("SELECT id FROM contract WHERE id = {} AND customer_id = {}", contract_id, customer_id):
            raise fix(contract_id=_("Choose a contract of this customer."))
        path.write_bytes(data)
        try:
            document_id = await insert(
                CustomerDocument, returning=CustomerDocument.id, customer_id=customer_id, contract_id=contract_id,
                kind=kind, title=title or original, original_name=original, stored_name=stored,
                content_type=ALLOWED[ext][0], size_bytes=len(data), sha256=digest, is_deleted=False,
                user_id=actor.user_id, username=actor.username, created_at=utcnow())
            await record(actor, "document.uploaded", "customer", customer_id,
                         after={"document_id": document_id, "name": original, "size": len(data), "kind": kind,
                                "sha256": digest})
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return document_id


async def list_documents(customer_id: int) -> list[dict]:
    return await fetch("SELECT d.*, k.number AS contract_number, COALESCE(u.full_name, '') AS person "
                       "FROM customer_document d LEFT JOIN contract k ON k.id = d.contract_id "
                       "LEFT JOIN app_user u ON u.id = d.user_id "
                       "WHERE d.customer_id = {} AND d.is_deleted = false ORDER BY d.id DESC", customer_id)


async def get_document(document_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM customer_document WHERE id = {} AND is_deleted = false", document_id)
    return rows[0] if rows else None


def document_path(row: dict) -> Path:
    name = str(row["stored_name"])
    if not name.isalnum():  # only our random hex names: never a path from elsewhere
        raise not_found(_("No such document."))
    return customer_dir() / name


async def delete_document(actor: Actor, document_id: int) -> int:
    """Soft delete (the file stays for the audit trail). Returns the customer id."""
    async with atomic():
        rows = await update(CustomerDocument, (CustomerDocument.id == document_id) & (CustomerDocument.is_deleted == False),  # noqa: E712
                            returning=(CustomerDocument.customer_id, CustomerDocument.original_name), is_deleted=True)
        if not rows:
            raise not_found(_("No such document."))
        await record(actor, "document.deleted", "customer", rows[0]["customer_id"],
                     before={"document_id": document_id, "name": rows[0]["original_name"]})
    return rows[0]["customer_id"]
