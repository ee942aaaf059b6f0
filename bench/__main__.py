"""Benchmark harness (issue #15). See docs/speed.md for what each column means.

    python -m bench [--scale 1000000 | --scales 10000,1000000] [--duration 10] [--connections 32]
                    [--workers 2] [--only audit] [--database-url URL] [--fresh] [--no-pin]

For each scale:
1. builds (or reuses) a data set: migrate + demo seed + `python -m seed --scale N --steps <step>` for each
   scenario module's SEED_STEP, on var/bench/bench-<N>.db (or the PostgreSQL database given);
2. counting pass: the app with SHOUHOU_COUNT_QUERIES=1 (bench/served.py adds `x-queries`), one warm request
   per page → queries per page; list pages also give their "next" link (the keyset cursor of page 2);
3. timed pass: a bare Litestar hello (bench/hello.py), then the app, each served by the SAME uvicorn flags
   `make run` uses (read from the Makefile's run line; uvloop/httptools added when installed), one worker
   pinned to CPU 0 and `wrk -t1 -c32 -d10s --latency` pinned to CPU 1; worker RSS read after each page;
4. prints one table (req/s, ratio, p50, p99, p99/p50, queries, RSS, target met?) and writes var/bench/last.json.

`--workers 2` repeats the timed pass with two workers and prints 2-vs-1 ratios beside os.cpu_count().
`--scales A,B` runs each scale and prints p99 at B ÷ p99 at A for page 1 and deep pages (target ≤ 1.5×).
`--compare-reader` (SQLite) repeats the timed pass with the shared read connection off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from html import unescape
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
OUT = ROOT / "var" / "bench"

# Targets of issue #15, as ratios measured in one run (never as timed tests).
TARGETS = {
    "healthz_of_hello": 0.50,  # /healthz req/s ≥ 50% of the bare hello's
    "list": 0.35,  # main list pages ≥ 35% of /healthz
    "board": 0.15,  # the bench board ≥ 15% of /healthz
    "home": 0.35,  # every role's home ≥ 35% of /healthz …
    "home_queries": 4,  # … with at most 4 queries
    "tail": 2.0,  # p99 ≤ 2 × p50 on every page
    "scale_p99": 1.5,  # p99 at the big scale ≤ 1.5 × p99 at the small one (page 1 and deep pages)
    "rss_mb": 150,  # worker RSS under load
}
KINDS = ("list", "board", "home", "page")


@dataclass
class Page:
    label: str
    path: str  # already formatted
    user: str | None
    kind: str = "page"  # list | board | home | page (see TARGETS)
    module: str = ""
    deep: bool = False  # a keyset page past the first (followed "next" link or a cursor in the scenario)


@dataclass
class Row:
    label: str
    kind: str
    path: str
    deep: bool = False
    user: str | None = None
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    errors: int = 0
    requests: int = 0  # completed in the run: below ~30, p50/p99 are a handful of samples
    ratio: float | None = None  # of /healthz (hello for /healthz)
    queries: int | None = None
    rss_mb: float | None = None
    hwm_mb: float | None = None
    misses: list[str] = field(default_factory=list)

    @property
    def tail(self) -> float:
        return self.p99 / self.p50 if self.p50 else float("nan")


# --- uvicorn command line: the same flags as `make run` -------------------------------------------------------


def _make_vars(text: str) -> dict[str, str]:
    out = {}
    for match in re.finditer(r"^([A-Z_]+)\s*[:?]?=\s*(.*)$", text, re.M):
        out.setdefault(match.group(1), match.group(2).strip())
    return out


def _expand(value: str, variables: dict[str, str], depth: int = 0) -> str:
    """Enough of make's expansion for the run line: $(VAR), $(if $(ENV),then,else); env wins over the file."""
    if depth > 8:
        return value

    def one(match: re.Match) -> str:
        inner = match.group(1)
        if inner.startswith("if "):
            cond, _, rest = inner[3:].partition(",")
            then, _, other = rest.partition(",")
            return _expand(then if _expand(cond, variables, depth + 1).strip() else other, variables, depth + 1)
        if inner in os.environ:
            return os.environ[inner]
        return _expand(variables.get(inner, ""), variables, depth + 1)

    previous = None
    while previous != value:
        previous, value = value, re.sub(r"\$\(((?:[^()]|\([^()]*\))*)\)", one, value)
    return value


def make_run_flags() -> list[str]:
    """The uvicorn flags of the Makefile's `run:` recipe (app, host and port left out), plus uvloop/httptools
    when installed and the line does not choose already (the lead adds them to the lock, issue #15)."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n?)+)", text, re.M)
    line = next((ln for ln in (recipe.group(1).splitlines() if recipe else []) if "uvicorn" in ln), "")
    words = shlex.split(_expand(line.split("uvicorn", 1)[1] if line else "", _make_vars(text)))
    flags, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("--host", "--port"):
            skip = True
            continue
        if word.startswith(("--host=", "--port=")) or re.fullmatch(r"[\w.]+:[\w.]+", word):
            continue  # the app reference (module:attribute)
        flags.append(word)
    if "--factory" not in flags:
        flags.append("--factory")
    if importlib.util.find_spec("uvloop") and not any(f.startswith("--loop") for f in flags):
        flags += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools") and not any(f.startswith("--http") for f in flags):
        flags += ["--http", "httptools"]
    return flags


def uvicorn_cmd(app_ref: str, port: int, workers: int, access_log: bool, cpu: int | None) -> list[str]:
    cmd = [PY, "-m", "uvicorn", app_ref, *make_run_flags(), "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning"]
    if not access_log and "--no-access-log" not in cmd:
        cmd.append("--no-access-log")
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    return cmd


# --- processes --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, app_ref: str, env: dict, workers: int = 1, access_log: bool = False, cpu: int | None = None,
                 probe: str = "/healthz") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.cmd = uvicorn_cmd(app_ref, self.port, workers, access_log, cpu)
        self.proc = subprocess.Popen(self.cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.workers = workers
        deadline = time.monotonic() + 180  # start-up on a busy machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {' '.join(self.cmd)}")
            try:
                if httpx.get(self.base + probe, timeout=10).status_code == 200 and len(self.worker_pids()) >= workers:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit("server did not start")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn itself with one worker, its spawned children with more."""
        if self.workers <= 1:
            return [self.proc.pid]
        pids = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                pass
        out = []
        for pid in pids:
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    out.append(pid)
            except OSError:
                pass
        return out

    def memory(self) -> tuple[float, float]:
        """(largest VmRSS, largest VmHWM) over the workers, in MB (1 MB = 2^20 bytes)."""
        rss = hwm = 0.0
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for key, value in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M):
                if key == "VmRSS":
                    rss = max(rss, int(value) / 1024)
                else:
                    hwm = max(hwm, int(value) / 1024)
        return rss, hwm

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- wrk --------------------------------------------------------------------------------------------------------


def parse_duration(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, cookie: str | None, args, cpu: int | None) -> dict:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
           "--timeout", args.wrk_timeout, "-H", "Host: 127.0.0.1"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    p50 = parse_duration(p50.group(1)) if p50 else 0.0  # no response within the run: 0 req/s, judged as errors
    p99 = parse_duration(p99.group(1)) if p99 else 0.0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (int(socket_errors.group(1)) if socket_errors else 0)
    if not rps or not p50:
        errors = max(errors, 1)
    done = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors, "requests": int(done.group(1)) if done else 0}


# --- scenarios and data ----------------------------------------------------------------------------------------


def load_scenarios(only: str | None):
    import bench.scenarios as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if only and not any(part in info.name for part in only.split(",")):
            continue
        yield info.name, importlib.import_module(f"bench.scenarios.{info.name}")


def seed_steps(modules) -> list[str]:
    steps = set()
    for name, module in modules:
        step = getattr(module, "SEED_STEP", name)
        if step:
            steps.add(step)
    return sorted(steps)


def prepare(env: dict, scale: int, fresh: bool, steps: list[str]) -> None:
    db_url = env["DATABASE_URL"]
    if db_url.startswith("sqlite") and fresh:
        path = Path(db_url.split("sqlite:///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    subprocess.run([PY, "-m", "app.core.manage", "migrate"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([PY, "-m", "seed", "--quiet"], env=env, check=True, cwd=ROOT)
    for step in steps:  # each scenario's big table grown once per data set
        marker = OUT / (re.sub(r"\W", "_", db_url) + f".{step}.scaled")
        if scale and (fresh or not marker.exists()):
            print(f"seeding {step} --scale {scale} …", flush=True)
            started = time.monotonic()
            subprocess.run([PY, "-m", "seed", "--scale", str(scale), "--steps", step, "--quiet"], env=env, check=True,
                           cwd=ROOT)
            print(f"  {step}: {time.monotonic() - started:.0f} s", flush=True)
            marker.write_text(str(scale))


PARAMS_SCRIPT = """
import asyncio, json, sys
from bench.__main__ import collect_params
print(json.dumps(asyncio.run(collect_params(sys.argv[1] or None)), default=str))
"""


async def collect_params(only: str | None) -> dict:
    """Runs in a child process (the engine is built at import from DATABASE_URL, one data set per process)."""
    import app  # noqa: F401
    from app.core import db

    await db.startup()
    values: dict = {}
    try:
        for _, module in load_scenarios(only):
            if hasattr(module, "params"):
                values.update(await module.params())
    finally:
        await db.shutdown()
    return values


def scenario_pages(env: dict, only: str | None) -> list[Page]:
    out = subprocess.run([PY, "-c", PARAMS_SCRIPT, only or ""], env=env, cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    params = json.loads(out.strip().splitlines()[-1])
    pages = []
    for name, module in load_scenarios(only):
        for entry in module.PAGES:
            label, path, user, *rest = entry
            kind = rest[0] if rest else "page"
            assert kind in KINDS, f"{name}: unknown kind {kind!r}"
            pages.append(Page(label, path.format(**params), user, kind, name,
                              deep=kind == "list" and ("before=" in path or "after=" in path)))
    return pages


def login_cookie(base: str, username: str, password: str = "demo") -> str:
    with httpx.Client(base_url=base, follow_redirects=False, headers={"Host": "127.0.0.1"}, timeout=120) as client:
        client.get("/login")
        token = client.cookies.get("csrftoken")
        response = client.post("/login", data={"username": username, "password": password},
                               headers={"x-csrftoken": token})
        if response.status_code != 303:
            raise SystemExit(f"login as {username} failed: {response.status_code}")
        return f"shouhou_session={client.cookies.get('shouhou_session')}; csrftoken={token}"


def key(user: str | None, path: str) -> str:
    return f"{user or ''} {path}"


NEXT_LINK = re.compile(r'<a\b[^>]*\brel="next"[^>]*\bhref="([^"]+)"|<a\b[^>]*\bhref="([^"]+)"[^>]*\brel="next"')


def counting_pass(env: dict, pages: list[Page], cookies: dict[str, str]) -> tuple[dict[str, int], list[Page]]:
    """One server with SHOUHOU_COUNT_QUERIES=1: the queries of one warm request per page (the second of two),
    sign-ins for every user, and a "→ next page" row for every first list page that has a next link."""
    counts: dict[str, int] = {}
    extra: list[Page] = []
    with Server("bench.served:create_app", dict(env, SHOUHOU_COUNT_QUERIES="1")) as server:
        with httpx.Client(base_url=server.base, follow_redirects=False, headers={"Host": "127.0.0.1"},
                          timeout=120) as client:
            client.get("/healthz")
            counts[key(None, "/healthz")] = int(client.get("/healthz").headers.get("x-queries", "-1"))
            for page in pages:
                if page.user and page.user not in cookies:
                    cookies[page.user] = login_cookie(server.base, page.user)
            for page in pages:
                headers = {"Cookie": cookies[page.user]} if page.user else {}
                client.get(page.path, headers=headers)
                response = client.get(page.path, headers=headers)
                if response.status_code >= 400:
                    print(f"  ! {page.label}: HTTP {response.status_code} at {page.path}", flush=True)
                counts[key(page.user, page.path)] = int(response.headers.get("x-queries", "-1"))
                if page.kind == "list" and not page.deep:
                    match = NEXT_LINK.search(response.text)
                    if match:
                        href = unescape(match.group(1) or match.group(2))
                        deep = Page(f"{page.label} → next page", href, page.user, "list", page.module, deep=True)
                        extra.append(deep)
                        again = client.get(href, headers=headers)
                        again = client.get(href, headers=headers)
                        counts[key(page.user, href)] = int(again.headers.get("x-queries", "-1"))
    return counts, extra


# --- the timed pass -----------------------------------------------------------------------------------------------


def warm(base: str, path: str, cookie: str | None) -> None:
    headers = {"Host": "127.0.0.1", **({"Cookie": cookie} if cookie else {})}
    for _ in range(3):
        try:
            httpx.get(base + path, headers=headers, timeout=120)
        except httpx.HTTPError:
            pass


def timed_pass(env: dict, args, pages: list[Page], cookies: dict[str, str], counts: dict[str, int],
               workers: int) -> dict:
    pin = not args.no_pin and workers == 1 and (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    server_cpu, wrk_cpu = (0, 1) if pin else (None, None)
    rows: list[Row] = []
    print(f"-- timed pass: {workers} worker(s){', server on CPU 0, wrk on CPU 1' if pin else ''}", flush=True)
    with Server("bench.hello:create_app", env, workers, args.access_log, server_cpu, probe="/") as hello:
        warm(hello.base, "/", None)
        rows.append(Row("bare Litestar hello (baseline)", "hello", "/", **run_wrk(hello.base + "/", None, args, wrk_cpu)))
        rows[-1].queries = 0
        rows[-1].rss_mb, rows[-1].hwm_mb = hello.memory()
    with Server("app.main:create_app", env, workers, args.access_log, server_cpu) as server:
        uvicorn_line = " ".join(server.cmd)
        warm(server.base, "/healthz", None)
        rows.append(Row("/healthz", "healthz", "/healthz", **run_wrk(server.base + "/healthz", None, args, wrk_cpu)))
        rows[-1].rss_mb, rows[-1].hwm_mb = server.memory()
        for page in pages:
            cookie = cookies.get(page.user) if page.user else None
            warm(server.base, page.path, cookie)
            row = Row(page.label, page.kind, page.path, page.deep, page.user, **run_wrk(server.base + page.path, cookie, args, wrk_cpu))
            row.rss_mb, row.hwm_mb = server.memory()
            rows.append(row)
            print(f"   {row.rps:8.0f} req/s  p99 {row.p99:7.1f} ms  {page.label}", flush=True)
    hello_row, healthz = rows[0], rows[1]
    healthz.ratio = healthz.rps / hello_row.rps if hello_row.rps else None
    for row in rows:
        row.queries = counts.get(key(row.user, row.path), row.queries)
        if row.kind not in ("hello", "healthz"):
            row.ratio = row.rps / healthz.rps if healthz.rps else None
        judge(row)
    app_rows = rows[1:]
    return {
        "workers": workers,
        "pinned": bool(pin),
        "uvicorn": uvicorn_line,
        "rows": [dict(asdict(row), tail=row.tail) for row in rows],
        "rss_max_mb": max((r.rss_mb or 0) for r in app_rows),
        "hwm_max_mb": max((r.hwm_mb or 0) for r in app_rows),
        "_rows": rows,
    }


def judge(row: Row) -> None:
    """Fills row.misses with the targets this row misses (empty = every target met)."""
    misses = []
    if row.kind == "healthz" and row.ratio is not None and row.ratio < TARGETS["healthz_of_hello"]:
        misses.append(f"<{TARGETS['healthz_of_hello']:.0%} of hello")
    if row.kind in ("list", "board", "home") and row.ratio is not None and row.ratio < TARGETS[row.kind]:
        misses.append(f"<{TARGETS[row.kind]:.0%}")
    if row.kind == "home" and row.queries is not None and row.queries > TARGETS["home_queries"]:
        misses.append(f">{TARGETS['home_queries']} queries")
    if row.kind != "hello" and row.p50 and row.tail > TARGETS["tail"]:
        misses.append("p99>2×p50")
    if row.errors:
        misses.append(f"{row.errors} errors")
    row.misses = misses


# --- output -------------------------------------------------------------------------------------------------------


def verdict(row: Row) -> str:
    if row.kind == "hello":
        return "–"
    few = f" (only {row.requests} requests)" if row.requests < 30 else ""
    return ("yes" if not row.misses else "NO " + ", ".join(row.misses)) + few


def print_table(title: str, run: dict) -> None:
    rows: list[Row] = run["_rows"]
    print(f"\n== {title}")
    print(f"{'page':52} {'kind':7} {'req/s':>8} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8} {'p99/p50':>7} "
          f"{'queries':>7} {'RSS MB':>7}  target met?")
    for row in rows:
        ratio = f"{row.ratio:6.0%}" if row.ratio is not None else f"{'–':>6}"
        queries = f"{row.queries:7d}" if row.queries is not None and row.queries >= 0 else f"{'?':>7}"
        print(f"{row.label[:52]:52} {row.kind:7} {row.rps:8.0f} {ratio} {row.p50:8.1f} {row.p99:8.1f} "
              f"{row.tail:7.2f} {queries} {row.rss_mb or 0:7.0f}  {verdict(row)}")
    rss_ok = run["hwm_max_mb"] <= TARGETS["rss_mb"]
    print(f"worker RSS: max {run['rss_max_mb']:.0f} MB after a page, peak (VmHWM) {run['hwm_max_mb']:.0f} MB "
          f"— target ≤ {TARGETS['rss_mb']} MB: {'yes' if rss_ok else 'NO'}")
    missed = [row for row in rows if row.misses]
    print(f"rows missing a target: {len(missed)} of {len(rows) - 1}")


def compare_workers(one: dict, two: dict) -> list[dict]:
    by_label = {row.label: row for row in two["_rows"]}
    out = []
    print(f"\n== 2 workers vs 1 (os.cpu_count() = {os.cpu_count()}; wrk runs on the same machine)")
    print(f"{'page':52} {'1 w req/s':>10} {'2 w req/s':>10} {'2w/1w':>6} {'p99 1w':>8} {'p99 2w':>8}")
    for row in one["_rows"]:
        other = by_label.get(row.label)
        if not other:
            continue
        ratio = other.rps / row.rps if row.rps else float("nan")
        out.append({"label": row.label, "rps_1": row.rps, "rps_2": other.rps, "ratio": ratio, "p99_1": row.p99,
                    "p99_2": other.p99, "cpu_count": os.cpu_count()})
        print(f"{row.label[:52]:52} {row.rps:10.0f} {other.rps:10.0f} {ratio:6.2f} {row.p99:8.1f} {other.p99:8.1f}")
    return out


def compare_scales(runs: list[dict]) -> list[dict]:
    small, big = runs[0], runs[-1]
    by_label = {row.label: row for row in big["_rows"]}
    out = []
    print(f"\n== p99 at scale {big['scale']} ÷ p99 at scale {small['scale']} (list pages: page 1 and deep pages; "
          f"target ≤ {TARGETS['scale_p99']}×)")
    print(f"{'page':52} {'p99 small':>9} {'p99 big':>9} {'ratio':>6}  target met?")
    for row in small["_rows"]:
        other = by_label.get(row.label)
        if not other or row.kind != "list":
            continue
        ratio = other.p99 / row.p99 if row.p99 else float("nan")
        ok = ratio <= TARGETS["scale_p99"]
        out.append({"label": row.label, "deep": row.deep, "p99_small": row.p99, "p99_big": other.p99,
            "ratio": ratio, "met": ok})
        print(f"{row.label[:52]:52} {row.p99:9.1f} {other.p99:9.1f} {ratio:6.2f}  {'yes' if ok else 'NO'}")
    return out


def strip(run: dict) -> dict:
    return {key: value for key, value in run.items() if not key.startswith("_")}


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1_000_000, help="rows added to each scenario's big table")
    parser.add_argument("--scales", default="", help="comma-separated scales, e.g. 10000,1000000 (p99 ratio)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--wrk-timeout", default="30s", help="wrk --timeout (its default, 2s, hides slow tails)")
    parser.add_argument("--workers", type=int, default=1, help="2: also measure with two workers, print the ratio")
    parser.add_argument("--only", default=None, help="only scenario modules whose name contains this (a,b)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL data set instead of var/bench/*.db")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the worker and wrk to CPUs 0 and 1")
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's access log (off by default)")
    parser.add_argument("--compare-reader", action="store_true", help="SQLite: shared read connection on vs off")
    parser.add_argument("--output", default=str(OUT / "last.json"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    OUT.mkdir(parents=True, exist_ok=True)
    scales = [int(s) for s in args.scales.split(",") if s.strip()] or [args.scale]
    if args.database_url and len(scales) > 1:
        raise SystemExit("--scales builds one data set per scale: use SQLite (no --database-url)")
    modules = list(load_scenarios(args.only))
    print(f"uvicorn flags (from the Makefile's run line): {' '.join(make_run_flags())}")
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency --timeout {args.wrk_timeout}; "
          f"os.cpu_count() = {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    report: dict = {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "cpu_count": os.cpu_count(), "load_avg": os.getloadavg(), "targets": TARGETS,
                    "wrk": {"threads": args.threads, "connections": args.connections, "duration": args.duration,
                            "timeout": args.wrk_timeout},
                    "runs": []}
    runs = []
    for scale in scales:
        db_url = args.database_url or f"sqlite:///{OUT / f'bench-{scale}.db'}"
        env = dict(os.environ, DATABASE_URL=db_url, SHOUHOU_ALLOWED_HOSTS="127.0.0.1,localhost",
                   SHOUHOU_LOGIN_MAX_PER_IP="100000", SHOUHOU_LOGIN_MAX_PER_USER="100000",
                   SHOUHOU_LOGIN_MAX_PER_ACCOUNT="100000")
        env.pop("SHOUHOU_COUNT_QUERIES", None)
        prepare(env, scale, args.fresh, seed_steps(modules))
        print(f"\ndata set: {db_url} (scale {scale})", flush=True)
        pages = scenario_pages(env, args.only)
        cookies: dict[str, str] = {}
        counts, extra = counting_pass(env, pages, cookies)
        pages = pages + extra
        run = timed_pass(env, args, pages, cookies, counts, 1)
        run.update(scale=scale, database=db_url, label="1 worker")
        print_table(f"scale {scale}, 1 worker — ratio: /healthz ÷ hello, every page ÷ /healthz", run)
        runs.append(run)
        report["runs"].append(strip(run))
        save(args.output, report)
        if args.workers > 1 and scale == scales[-1]:
            two = timed_pass(env, args, pages, cookies, counts, args.workers)
            two.update(scale=scale, database=db_url, label=f"{args.workers} workers")
            print_table(f"scale {scale}, {args.workers} workers", two)
            report["runs"].append(strip(two))
            report["workers_vs_1"] = compare_workers(run, two)
            save(args.output, report)
        if args.compare_reader and db_url.startswith("sqlite"):
            off = timed_pass(dict(env, SHOUHOU_SQLITE_SHARED_READER="0"), args, pages, cookies, counts, 1)
            off.update(scale=scale, database=db_url, label="shared SQLite reader off")
            print_table(f"scale {scale}, shared SQLite reader OFF", off)
            report["runs"].append(strip(off))
    if len(runs) > 1:
        report["scales"] = compare_scales(runs)
    report["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    save(args.output, report)
    print(f"\nwritten: {args.output}")


def save(path: str, report: dict) -> None:
    """Written after every pass, so an interrupted run keeps what it measured."""
    Path(path).write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
