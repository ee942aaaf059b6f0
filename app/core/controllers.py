"""/admin/settings: every registered operator-editable number, with its default (admin only)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from app.core.permissions import perm
from app.core import settings
from app.core.i18n import _
from app.core.web import actor, form_data, redirect, render



class SettingsController(Controller):
    path = "/admin/settings"
    opt = perm("shell.settings")

    async def _page(self, request: Request, *, errors: dict | None = None, submitted: dict | None = None, status_code: int = 200) -> Response:
        values = await settings.current_values()
        specs = sorted(settings.REGISTRY.values(), key=lambda s: (s.domain or s.key.split(".")[0], s.key))
        return render(request, "admin/settings.html", status_code=status_code, specs=specs, values=values,
                      errors=errors or {}, submitted=submitted or {})

    @get("/", name="settings.list")
    async def list_settings(self, request: Request) -> Response:
        return await self._page(request)

    @post("/")
    async def save(self, request: Request) -> Response:
        data = await form_data(request)
        changes, errors = {}, {}
        values = await settings.current_values()
        for key, spec in settings.REGISTRY.items():
            if key not in data and spec.kind != "bool":
                continue
            raw = data.get(key, "")
            try:
                value = settings.parse_value(spec, raw if isinstance(raw, str) else raw[-1])
            except settings.SettingError as exc:
                errors[key] = str(exc)
                continue
            if values.get(key, spec.default) != value:
                changes[key] = value
        if errors:
            return await self._page(request, errors=errors, submitted=data, status_code=400)
        from app.core.db import write_transaction

        async with write_transaction():
            for key, value in changes.items():
                await settings.set_setting(actor(request), key, value)
        return redirect(request, "/admin/settings", flash=_("Settings saved (%(n)s changed).", n=len(changes)))


CONTROLLERS = [SettingsController]
