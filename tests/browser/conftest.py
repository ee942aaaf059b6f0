"""Browser tests: Playwright driving Debian's Chromium by its path (never `playwright install`).

They skip with a clear reason when Chromium is missing — except under CI=true, where
a missing browser fails the run.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "var" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " — browser tests may not skip under CI=true")
        pytest.skip(message)
    return CHROMIUM


@contextmanager
def serve(env: dict):
    """The real app under uvicorn on a free port with `env` (its DATABASE_URL already migrated); yields the base URL."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("live server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def migrated_env(name: str) -> dict:
    """A fresh SQLite database of its own, migrated; returns the environment to run the app on it."""
    tmp = tempfile.mkdtemp(prefix=f"shouhou-{name}-")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/{name}.db", SHOUHOU_ALLOWED_HOSTS="127.0.0.1,localhost",
               PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "app.core.manage", "migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return env


@pytest.fixture(scope="session")
def live_server(chromium_path):
    """The real app under uvicorn on a free port, on its own SQLite file with the demo data."""
    env = migrated_env("browser")
    subprocess.run([sys.executable, "-m", "seed", "--quiet"], env=env, cwd=ROOT, check=True)
    with serve(env) as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium_path):
    # Module scope: Playwright's sync API keeps an event loop running in this thread while
    # open, which async tests collected after it could not share.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
