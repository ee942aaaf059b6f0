"""Interaction counts for docs/jobs.md (issue #12): a thin wrapper around a Playwright page that counts what the
user does — clicks, fields typed or chosen, and Enter presses — so the numbers come from the tests themselves.

    ui = Counted(page)
    ui.click("#x"); ui.fill("#serial", "BP-1"); ui.enter()
    assert ui.count == 3   # or ui.report() → {"clicks": 1, "fields": 1, "enters": 1, "total": 3}
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Counted:
    page: object
    clicks: int = 0
    fields: int = 0
    enters: int = 0
    log: list[str] = field(default_factory=list)

    def click(self, selector: str, **kwargs) -> None:
        self.page.click(selector, **kwargs)
        self.clicks += 1
        self.log.append(f"click {selector}")

    def fill(self, selector: str, value: str) -> None:
        self.page.fill(selector, value)
        self.fields += 1
        self.log.append(f"type {selector}")

    def select(self, selector: str, value: str) -> None:
        self.page.select_option(selector, value)
        self.fields += 1
        self.log.append(f"choose {selector}")

    def enter(self, selector: str | None = None) -> None:
        if selector:
            self.page.press(selector, "Enter")
        else:
            self.page.keyboard.press("Enter")
        self.enters += 1
        self.log.append("Enter")

    @property
    def count(self) -> int:
        return self.clicks + self.fields + self.enters

    def report(self) -> dict:
        return {"clicks": self.clicks, "fields": self.fields, "enters": self.enters, "total": self.count}
