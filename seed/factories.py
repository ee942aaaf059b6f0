"""Factories shared by the demo seed and the tests (faker zh_CN, deterministic)."""

from __future__ import annotations

import itertools
import random

from faker import Faker

from app.core.accounts import services as accounts
from app.core.roles import ROLES
from app.core.audit.services import SYSTEM, Actor

SEED = 20261126

fake = Faker("zh_CN")
Faker.seed(SEED)
_counter = itertools.count(1)


def reseed(seed: int = SEED) -> random.Random:
    Faker.seed(seed)
    fake.seed_instance(seed)
    return random.Random(seed)


def unique(prefix: str) -> str:
    """A name no other factory call in this process returns."""
    return f"{prefix}{next(_counter)}{random.randint(1000, 9999)}"


async def make_user(*roles: str, username: str | None = None, password: str = "password-123", full_name: str | None = None,
                    actor: Actor = SYSTEM, lang: str = "") -> int:
    roles = roles or ("desk",)
    assert set(roles) <= set(ROLES), roles
    data = accounts.UserInput(
        username=username or unique("u"),
        full_name=full_name if full_name is not None else fake.name(),
        phone=fake.phone_number(),
        roles=tuple(roles),
        password=password,
    )
    return await accounts.create_user(actor, data, lang=lang)
