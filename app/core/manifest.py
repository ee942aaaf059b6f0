"""Domain manifests (issue #10, item 6): the only place a domain plugs into the shell.

Each domain's package exposes `MANIFEST = DomainManifest(...)` (built in `<domain>/manifest.py`,
reached lazily through the package's `__getattr__` so importing `<domain>.api` does not pull in
the domain's controllers). `app.main.create_app()` loops over the explicit list in `app.domains`
and `install()`s each: nothing registers itself by import side effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping, Sequence

from app.core import hooks, nav, periodic, permissions, sections, settings


@dataclass(frozen=True)
class SeedStep:
    """Demo data: `python -m seed` runs each manifest's steps in the order of app.domains. `target` names the
    coroutine as "module:function" (e.g. "seed.parts:seed_parts", called with (rng, scale, quiet)); it is
    resolved only by the seed command, so the app never imports faker."""

    name: str
    target: str
    order: int = 100  # demo data depends on other domains' demo data: lower runs first


@dataclass(frozen=True)
class DomainManifest:
    name: str
    controllers: Sequence[Any] = ()
    tables: Sequence[Any] = ()
    perms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    nav: Sequence[nav.NavEntry] = ()
    panels: Sequence[nav.HomePanel] = ()
    customer_sections: Sequence[sections.CustomerSection] = ()
    device_sections: Sequence[sections.CustomerSection] = ()
    sections: Mapping[str, Sequence[sections.CustomerSection]] = field(default_factory=dict)  # page kind → cards
    settings: Sequence[settings.SettingSpec] = ()
    close_guards: Mapping[str, Sequence[hooks.CloseGuard]] = field(default_factory=dict)  # case type → guards
    finish_listeners: Mapping[str, Sequence[hooks.FinishListener]] = field(default_factory=dict)
    case_finders: Mapping[str, hooks.CaseFinder] = field(default_factory=dict)  # case type → open-case finder
    seed: Sequence[SeedStep] = ()
    periodic: Sequence[periodic.Periodic] = ()  # background jobs the lifespan runs (app.core.periodic)


_INSTALLED: set[str] = set()
_LOADER: Callable[[], Any] | None = None
_LOADING = False


def set_loader(loader: Callable[[], Any]) -> None:
    """`app/__init__.py` names the function that installs every manifest; core never imports the domains."""
    global _LOADER
    _LOADER = loader


def ensure_installed() -> bool:
    """Install every manifest once when a permission or setting is asked for outside a built app (a service
    test, the seed command, a CLI). Returns True when it ran now."""
    global _LOADER, _LOADING
    if _LOADER is None or _LOADING:
        return False
    loader, _LOADER = _LOADER, None
    _LOADING = True
    try:
        loader()
    finally:
        _LOADING = False
    return True


def install(manifest: DomainManifest) -> None:
    """Put a domain's declarations into the shell's registries (idempotent: tests build many apps)."""
    permissions.declare(manifest.perms)
    if manifest.name in _INSTALLED:
        return
    _INSTALLED.add(manifest.name)
    for entry in manifest.nav:
        nav.register_nav(entry)
    for panel in manifest.panels:
        nav.register_panel(panel)
    for section in manifest.customer_sections:
        sections.register_customer_section(section)
    for section in manifest.device_sections:
        sections.register_device_section(section)
    for kind, cards in manifest.sections.items():
        for section in cards:
            sections.register_section(kind, section)
    for spec in manifest.settings:
        settings.register_setting(spec if spec.domain else _with_domain(spec, manifest.name))
    for case_type, guards in manifest.close_guards.items():
        for guard in guards:
            hooks.register_close_guard(case_type, guard)
    for case_type, listeners in manifest.finish_listeners.items():
        for listener in listeners:
            hooks.register_finish_listener(case_type, listener)
    for case_type, finder in manifest.case_finders.items():
        hooks.register_case_finder(case_type, finder)
    for job in manifest.periodic:
        periodic.register_periodic(job)


def _with_domain(spec: settings.SettingSpec, domain: str) -> settings.SettingSpec:
    from dataclasses import replace

    return replace(spec, domain=domain)


def install_all(manifests: Sequence[DomainManifest]) -> list[Any]:
    """Install every manifest; returns all their controllers in order."""
    routes: list[Any] = []
    for manifest in manifests:
        install(manifest)
        routes.extend(manifest.controllers)
    return routes
