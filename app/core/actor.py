"""Who is acting: passed from the controller to every service that writes (and to `require()`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    ip: str = ""
    request_id: str = ""
    name: str = ""  # the person's display name (X-04: pages show names, never usernames)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def display(self) -> str:
        return self.name or self.username


SYSTEM = Actor(user_id=None, username="system")
