"""Several worker processes (issue #15 "Scale beyond one machine"): nothing a request needs lives in one process.

uvicorn `--workers 2` on a free port against this run's PostgreSQL database; every request goes over a
connection of its own, held open, so the kernel spreads them over both workers, and each connection is
traced to the worker process that holds it (/proc). Sessions, the CSRF cookie and the login throttle must
work whichever worker answers. PostgreSQL only (SQLite is one file for one machine); `.ci/run` runs the
suite on PostgreSQL, so CI runs this. No timed assertion: the waits are only upper bounds for start-up.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import is_postgres

pytestmark = pytest.mark.skipif(not is_postgres(), reason="several workers need PostgreSQL (DATABASE_URL)")

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "password-123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _workers(parent: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{parent}/task").glob("*"):
        try:
            children += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            pass
    out = []
    for pid in children:
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            pass
    return out


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match:
            inodes.add(match.group(1))
    return inodes


def _owner_of_connections(port: int, client_ports: list[int], workers: list[int]) -> dict[int, int]:
    """client port → worker pid holding the server side of that established connection."""
    inode_of: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and remote_port in client_ports:
                inode_of[remote_port] = fields[9]
    held = {pid: _socket_inodes(pid) for pid in workers}
    return {cport: pid for cport, inode in inode_of.items() for pid, inodes in held.items() if inode in inodes}


@pytest.fixture
async def server():
    from seed.factories import make_user, unique

    username, victim = unique("w"), unique("v")
    await make_user("desk", username=username, password=PASSWORD)
    await make_user("desk", username=victim, password=PASSWORD)
    port = _free_port()
    env = dict(os.environ, SHOUHOU_ALLOWED_HOSTS="127.0.0.1", SHOUHOU_LOGIN_MAX_PER_USER="3",
               SHOUHOU_LOGIN_MAX_PER_IP="1000", SHOUHOU_LOGIN_MAX_PER_ACCOUNT="1000", SHOUHOU_DB_POOL_MIN="1",
               SHOUHOU_DB_POOL_MAX="3")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "2", "--no-proxy-headers", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # start-up bound only (a loaded box), nothing measured
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                if httpx.get(base + "/healthz", timeout=5).status_code == 200 and len(_workers(proc.pid)) == 2:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "uvicorn --workers 2 did not start"
            time.sleep(0.1)
        yield {"base": base, "port": port, "pid": proc.pid, "user": username, "victim": victim}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _connection(base: str, cookies: httpx.Cookies | None = None) -> httpx.Client:
    """One client = one TCP connection (kept open until closed), so each is accepted by some worker."""
    return httpx.Client(base_url=base, cookies=cookies, follow_redirects=False,
                        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1), timeout=10)


def _client_port(client: httpx.Client) -> int:
    pool = client._transport._pool  # httpcore: the one open connection's socket
    stream = pool.connections[0]._connection._network_stream
    return stream.get_extra_info("socket").getsockname()[1]


async def test_session_csrf_and_throttle_work_across_two_workers(server):
    base = server["base"]
    opened: list[httpx.Client] = []
    try:
        # CSRF cookie from one connection, sign-in on another: the token is signed with the shared secret.
        first = _connection(base)
        opened.append(first)
        assert first.get("/login").status_code == 200
        token = first.cookies.get("csrftoken")
        assert token
        signer = _connection(base, first.cookies)
        opened.append(signer)
        response = signer.post("/login", data={"username": server["user"], "password": PASSWORD},
                               headers={"x-csrftoken": token})
        assert response.status_code == 303, response.text[:300]
        cookies = signer.cookies
        assert cookies.get("shouhou_session")

        # 20 requests, each on a connection of its own: the session (database) and the CSRF cookie work on all.
        statuses = []
        for i in range(10):
            client = _connection(base, cookies)
            opened.append(client)
            statuses.append(client.get("/").status_code)
            statuses.append(client.post("/lang", data={"lang": "zh" if i % 2 else "en", "next": "/"},
                                        headers={"x-csrftoken": token}).status_code)
        assert statuses == [200, 303] * 10

        # The login throttle counts in the database: 3 failures on 3 connections, then even the right password
        # is refused on a 4th, whichever worker took each.
        failures = []
        for _ in range(3):
            client = _connection(base, first.cookies)
            opened.append(client)
            failures.append(client.post("/login", data={"username": server["victim"], "password": "wrong-password"},
                                        headers={"x-csrftoken": token}).status_code)
        assert all(code in (400, 401, 403, 422) for code in failures), failures
        client = _connection(base, first.cookies)
        opened.append(client)
        assert client.post("/login", data={"username": server["victim"], "password": PASSWORD},
                           headers={"x-csrftoken": token}).status_code == 429

        # Both workers answered: trace every still-open connection to the process that holds it (the kernel
        # hands each new connection to whichever worker accepts first; a few more if it favoured one so far).
        workers = _workers(server["pid"])
        assert len(workers) == 2
        try:
            owners: dict[int, int] = {}
            for _ in range(4):
                owners = _owner_of_connections(server["port"], [_client_port(client) for client in opened], workers)
                if len(set(owners.values())) == 2 or not owners:
                    break
                for _ in range(8):
                    client = _connection(base, cookies)
                    opened.append(client)
                    assert client.get("/").status_code == 200
        except (AttributeError, IndexError, OSError):  # httpx internals or /proc not readable here
            owners = {}
        if not owners:
            pytest.skip("cannot trace connections to workers here; every request above succeeded")
        assert len(set(owners.values())) == 2, f"every connection went to one worker: {owners}"
    finally:
        for client in opened:
            client.close()
