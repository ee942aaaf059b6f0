"""Periodic jobs a domain declares in its manifest (issue #13: the SLA breach sweep without cron).

`Periodic("tickets.sweep", "app.tickets.services:sweep_breaches", every="tickets.sweep_seconds")`: the app's
lifespan runs each declared job in the background of every worker process, first after one interval, then every
`setting(every)` seconds (read again each round, so /admin/settings changes the pace). A job must be cheap and
idempotent: several workers run it side by side. A failing round is logged and the loop goes on.
`SHOUHOU_PERIODIC=0` turns the loops off (tests; or a deployment that runs the jobs from cron instead).
"""

from __future__ import annotations

import asyncio
import pkgutil
import logging
import os
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("shouhou.periodic")


@dataclass(frozen=True)
class Periodic:
    name: str
    target: str  # "module:coroutine function", called without arguments
    every: str  # the registered setting holding the interval in seconds


REGISTRY: dict[str, Periodic] = {}


def register_periodic(job: Periodic) -> None:
    REGISTRY[job.name] = job


def enabled() -> bool:
    return os.environ.get("SHOUHOU_PERIODIC", "1").strip().lower() not in ("0", "false", "no", "off")


def _resolve(target: str) -> Any:
    # a manifest names its job as "module:function" (like SeedStep): core never imports a domain statically
    return pkgutil.resolve_name(target)


async def run_once(job: Periodic) -> Any:
    return await _resolve(job.target)()


async def _interval(job: Periodic) -> float:
    from app.core.settings import setting

    try:
        return max(float(await setting(job.every)), 1.0)
    except Exception:  # noqa: BLE001 - settings table unreadable for a moment: keep a sane pace
        return 60.0


async def _loop(job: Periodic) -> None:
    while True:
        await asyncio.sleep(await _interval(job))
        try:
            await run_once(job)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one failed round must not stop the next
            log.warning("periodic job %s failed", job.name, exc_info=True)


def start() -> list[asyncio.Task]:
    """Lifespan start: one background task per declared job (none when SHOUHOU_PERIODIC=0)."""
    if not enabled():
        return []
    return [asyncio.create_task(_loop(job), name=f"periodic:{job.name}") for job in REGISTRY.values()]


async def stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001
            pass
