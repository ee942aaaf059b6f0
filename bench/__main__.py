"""Benchmark harness.

    python -m bench [--scale 1000000] [--duration 10] [--connections 8] [--only audit] [--database-url URL]

1. builds (or reuses) a data set: migrate + demo seed + `python -m seed --scale N` on
   var/bench/bench-<N>.db (or the PostgreSQL database given);
2. starts the app with uvicorn, one worker, on 127.0.0.1;
3. signs in the users the pages need and loads every page of bench/scenarios/*.py with
   `wrk --latency` from loopback;
4. prints req/s, p50 and p99 for each page and the ratio to `/healthz` measured in the
   same run (a page's req/s ÷ healthz req/s, and its p99 ÷ healthz p99).

`--compare-reader` runs the SQLite pages twice: shared read connection on and off.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import pkgutil
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def parse_duration(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, cookie: str | None, duration: int, connections: int) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-H", "Host: 127.0.0.1"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = parse_duration(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = parse_duration(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": int(non2xx.group(1)) if non2xx else 0}


def load_scenarios(only: str | None):
    import bench.scenarios as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if only and only not in info.name:
            continue
        yield info.name, importlib.import_module(f"bench.scenarios.{info.name}")


def prepare(env: dict, scale: int, fresh: bool, steps: list[str]) -> None:
    db_url = env["DATABASE_URL"]
    if db_url.startswith("sqlite") and fresh:
        path = Path(db_url.split("sqlite:///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    subprocess.run([PY, "-m", "app.core.manage", "migrate"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([PY, "-m", "seed", "--quiet"], env=env, check=True, cwd=ROOT)
    for step in steps:  # each scenario's big table grown once per data set
        marker = ROOT / "var" / "bench" / (re.sub(r"\W", "_", db_url) + f".{step}.scaled")
        if scale and (fresh or not marker.exists()):
            print(f"seeding {step} --scale {scale} …", flush=True)
            subprocess.run([PY, "-m", "seed", "--scale", str(scale), "--steps", step], env=env, check=True, cwd=ROOT)
            marker.write_text(str(scale))


def start_server(env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [PY, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("server did not start")


def login_cookie(base: str, username: str, password: str = "demo") -> str:
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        client.get("/login")
        token = client.cookies.get("csrftoken")
        response = client.post("/login", data={"username": username, "password": password}, headers={"x-csrftoken": token})
        if response.status_code != 303:
            raise SystemExit(f"login as {username} failed: {response.status_code}")
        return f"shouhou_session={client.cookies.get('shouhou_session')}; csrftoken={token}"


async def collect_params(env: dict, modules) -> dict:
    os.environ.update(env)
    import app  # noqa: F401
    from app.core import db

    await db.startup()
    values: dict = {}
    try:
        for _, module in modules:
            if hasattr(module, "params"):
                values.update(await module.params())
    finally:
        await db.shutdown()
    return values


def measure(env: dict, args, modules, label: str) -> list[tuple[str, dict]]:
    port = args.port
    server = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        params = asyncio.run(collect_params(env, modules))
        cookies: dict[str, str] = {}
        results = [("/healthz (reference)", run_wrk(base + "/healthz", None, args.duration, args.connections))]
        for _, module in modules:
            for page_label, path, username in module.PAGES:
                cookie = None
                if username:
                    cookie = cookies.get(username) or cookies.setdefault(username, login_cookie(base, username))
                url = base + path.format(**params)
                results.append((page_label, run_wrk(url, cookie, args.duration, args.connections)))
        return results
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)


def report(title: str, results: list[tuple[str, dict]]) -> None:
    ref = results[0][1]
    print(f"\n== {title}")
    print(f"{'page':46} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'rps/healthz':>11} {'p99/healthz':>11} {'errors':>6}")
    for label, r in results:
        print(f"{label[:46]:46} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['rps'] / ref['rps']:11.2f} "
              f"{r['p99'] / ref['p99']:11.2f} {r['errors']:6d}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", default=None, help="only scenario modules whose name contains this")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set")
    parser.add_argument("--compare-reader", action="store_true", help="SQLite: shared read connection on vs off")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    db_url = args.database_url or f"sqlite:///{ROOT / 'var' / 'bench' / f'bench-{args.scale}.db'}"
    env = dict(os.environ, DATABASE_URL=db_url, SHOUHOU_ALLOWED_HOSTS="127.0.0.1,localhost",
               SHOUHOU_LOGIN_MAX_PER_IP="100000", SHOUHOU_LOGIN_MAX_PER_USER="100000")
    modules = list(load_scenarios(args.only))
    prepare(env, args.scale, args.fresh, sorted({getattr(m, "SEED_STEP", name) for name, m in modules}))
    print(f"data set: {db_url} (scale {args.scale}); wrk {args.connections} connections × {args.duration}s; 1 uvicorn worker")
    report("shared SQLite reader on" if db_url.startswith("sqlite") else "PostgreSQL", measure(env, args, modules, "main"))
    if args.compare_reader and db_url.startswith("sqlite"):
        env_off = dict(env, SHOUHOU_SQLITE_SHARED_READER="0")
        report("shared SQLite reader OFF (Piccolo default: a connection per query)", measure(env_off, args, modules, "off"))


if __name__ == "__main__":
    main()
