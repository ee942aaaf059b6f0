"""Factories for ledger tests: actors, repairers, books with unique series."""

from __future__ import annotations

import itertools
import random

from app.core.audit.services import Actor
from app.ledger import services as slips
from seed.factories import make_user, unique

_series = itertools.count(1)


def series() -> str:
    """A series code no other test uses (books are numbered per series)."""
    return f"T{random.randint(100, 999)}{next(_series)}"


async def actor(*roles: str) -> Actor:
    username = unique("lg")
    uid = await make_user(*roles, username=username)
    return Actor(user_id=uid, username=username, roles=frozenset(roles))


async def repairer() -> Actor:
    return await actor("field")


async def issued_book(finance: Actor, holder: Actor, *, per_book: int = 10, first: int = 1, code: str | None = None) -> dict:
    code = code or series()
    [book_id] = await slips.create_books(finance, series=code, first_number=first, per_book=per_book)
    await slips.issue_book(finance, book_id, holder.user_id)
    return await slips.get_book(book_id)


async def backup_book(finance: Actor, code: str, first: int, per_book: int = 5) -> int:
    [book_id] = await slips.create_books(finance, series=code, first_number=first, per_book=per_book, kind="backup")
    return book_id


async def real_rma() -> str:
    """The number of a real, newly received RMA (a slip may only name an RMA that exists, #12.5)."""
    from app.rma.api import get_rma
    from tests.rma.factories import make_rma

    return (await get_rma(await make_rma("received")))["number"]
