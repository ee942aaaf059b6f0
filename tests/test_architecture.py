"""The domain kit's rules, checked on the code itself (issue #10, item 11).

Each check runs per domain, so a domain that breaks a rule is named. What is checked:
- core imports no domain; a domain imports another only through `<other>.api`;
- no domain writes (INSERT/UPDATE/DELETE) another domain's tables;
- no import cycle between domains;
- no domain defines its own exception class (one DomainError / Stale in core);
- no hand-written compare-and-set (`version = version + 1`) outside app/core: status moves go through
  core.status.move(), plain versioned edits through core.status.update_versioned();
- no registration by import side effect (register_nav / register_panel / register_setting …) and no importlib;
- settings are read by key only (`setting("…")`), and every stored app_setting key is registered;
- every route declares a named permission (`opt=perm(…)`) or PUBLIC;
- inserts and single-table updates go through app.core.rows (Piccolo's query builder); a raw `INSERT INTO` /
  `UPDATE <table> SET` string outside app/core carries a `# raw-sql: reason` comment within the 3 lines above;
  core.rows calls only write the domain's own Table classes;
- no module under app/ over 600 lines, no function over 60 lines without a `# long: reason` above or on its def.
"""

from __future__ import annotations

import ast
import re
import tokenize
from pathlib import Path

import pytest

from app.core.db import fetch

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
DOMAINS = sorted(p.name for p in APP.iterdir() if (p / "__init__.py").exists() and p.name != "core")
SQL_WRITE = re.compile(r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+([a-z_][a-z0-9_]*)", re.I)
LEGACY_REGISTRATION = {"register_nav", "register_panel", "register_setting", "register_close_guard",
                       "register_finish_listener", "register_customer_section", "register_device_section"}


def _files(domain: str) -> list[Path]:
    return sorted((APP / domain).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every imported module (top level and inside functions) with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
            out.extend((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
    return out


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "app" and parts[1] in DOMAINS else None


def _table_owner() -> dict[str, str]:
    from app.domains import manifests

    owner = {}
    for manifest in manifests():
        for table in manifest.tables:
            owner[table._meta.tablename] = manifest.name
    return owner


def test_core_imports_no_domain():
    """app/core is the shell: it imports no domain package."""
    bad = []
    for path in sorted((APP / "core").rglob("*.py")):
        for module, line in _imports(path):
            if _domain_of(module):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("domain", DOMAINS)
def test_other_domains_only_through_api(domain):
    """A domain reaches another only through `<other>/api.py`."""
    bad = []
    for path in _files(domain):
        for module, line in _imports(path):
            other = _domain_of(module)
            if other and other != domain and not (module == f"app.{other}.api" or module.startswith(f"app.{other}.api.")
                                                    or module == f"app.{other}"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
            if module == f"app.{other}" and other != domain:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports the package app.{other} (use app.{other}.api)")
    assert not bad, "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_writes_to_other_domains_tables(domain):
    """INSERT / UPDATE / DELETE only on the domain's own tables (or the shell's audit/numbering/settings)."""
    owner = _table_owner()
    bad = []
    for path in _files(domain):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for table in SQL_WRITE.findall(line):
                table = table.lower()
                if owner.get(table) not in (None, domain, "shell"):
                    bad.append(f"{path.relative_to(ROOT)}:{lineno} writes {table} (owned by {owner[table]})")
    assert not bad, "\n".join(bad)


def test_no_import_cycle_between_domains():
    """The domain graph (who imports whose api) has no cycle."""
    graph = {d: set() for d in DOMAINS}
    for domain in DOMAINS:
        for path in _files(domain):
            for module, _line in _imports(path):
                other = _domain_of(module)
                if other and other != domain:
                    graph[domain].add(other)
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("import cycle: " + " → ".join(stack[stack.index(node):] + [node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for domain in DOMAINS:
        visit(domain)


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_domain_error_classes(domain):
    """Services raise core's DomainError / Stale; no domain defines an exception class of its own."""
    bad = []
    for path in _files(domain):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if node.name.endswith(("Error", "Exception")) or bases & {"Exception", "ValueError", "RuntimeError",
                                                                           "DomainError", "Stale"}:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} class {node.name}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_hand_written_compare_and_set(domain):
    """`version = version + 1` appears only in app/core (move / update_versioned)."""
    bad = [f"{p.relative_to(ROOT)}:{n}" for p in _files(domain)
           for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if re.search(r"version\s*=\s*version\s*\+\s*1", line) and "# cas-ok:" not in line]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_registration_by_side_effect(domain):
    """Domains plug in through their manifest only: no register_*() calls, no importlib, no route sniffing."""
    bad = []
    for path in _files(domain):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in LEGACY_REGISTRATION:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}()")
        if "importlib" in text:
            bad.append(f"{path.relative_to(ROOT)} uses importlib")
        if "app.routes" in text:
            bad.append(f"{path.relative_to(ROOT)} looks at app.routes")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("domain", DOMAINS)
def test_settings_read_by_key_only(domain):
    """Every setting is read with `setting("key")` (its default lives once, in the manifest's spec)."""
    bad = []
    for path in _files(domain):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in {"get_int", "get_number", "get_setting"}:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}() with a default")
    assert not bad, "\n".join(bad)


def test_setting_keys_used_are_registered():
    """Every `setting("key")` in the code names a registered spec."""
    from app.core.settings import REGISTRY
    from app.domains import manifests
    from app.core.manifest import install_all

    install_all(manifests())
    used = set()
    for path in sorted(APP.rglob("*.py")):
        used |= set(re.findall(r"""\bsetting\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    assert used - set(REGISTRY) == set()


async def test_stored_setting_keys_are_registered():
    """No app_setting row (seeded by a migration or saved by an admin) is missing from /admin/settings."""
    from app.core.manifest import install_all
    from app.core.settings import REGISTRY
    from app.domains import manifests

    install_all(manifests())
    keys = {row["key"] for row in await fetch("SELECT key FROM app_setting")
            if not row["key"].startswith(("demo.", "test."))}  # seed markers and other tests' throwaway keys
    assert keys - set(REGISTRY) == set()


@pytest.mark.parametrize("domain", ["shell", *DOMAINS])
def test_every_route_has_a_named_permission(domain):
    """Each handler declares `opt=perm("…")` or PUBLIC, never a bare role list."""
    from app.core.permissions import PERMISSIONS
    from app.domains import manifests

    manifest = next(m for m in manifests() if m.name == domain)
    bad = []
    for controller in manifest.controllers:
        for name in dir(controller):
            handler = getattr(controller, name)
            opt = getattr(handler, "opt", None)
            if opt is None or not hasattr(handler, "http_methods"):
                continue
            base = controller.__dict__.get("opt")
            merged = {**(base if isinstance(base, dict) else {}), **opt}
            if not (merged.get("public") or merged.get("perms")):
                bad.append(f"{controller.__name__}.{name}")
            for p in merged.get("perms", ()):
                if p not in PERMISSIONS and p not in manifest.perms:
                    bad.append(f"{controller.__name__}.{name}: undeclared permission {p}")
    assert not bad, "\n".join(bad)


RAW_WRITE = re.compile(r"\bINSERT\s+INTO\b|\bUPDATE\s+\{?[a-z_][a-z0-9_]*\}?\s+SET\b")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def _app_files_outside_core() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if (APP / "core") not in p.parents)


def test_raw_sql_writes_say_why():
    """Inserts and single-table updates use app.core.rows (keyword columns checked against the Table class);
    a raw INSERT/UPDATE string stays only with a `# raw-sql: reason` (ON CONFLICT, relative updates, INSERT …
    SELECT, sub-selects, compare-and-set …) on one of the 3 lines above it or on its own line."""
    bad = []
    for path in _app_files_outside_core():
        lines = path.read_text(encoding="utf-8").splitlines()
        with path.open("rb") as handle:
            tokens = list(tokenize.tokenize(handle.readline))
        for token in tokens:
            if token.type != tokenize.STRING or not RAW_WRITE.search(token.string):
                continue
            row = token.start[0]
            if not any("# raw-sql:" in line for line in lines[max(0, row - 4):token.end[0]]):
                bad.append(f"{path.relative_to(ROOT)}:{row}: {token.string.strip()[:70]}")
    assert not bad, "raw INSERT/UPDATE without a `# raw-sql: reason` (or use app.core.rows):\n" + "\n".join(bad)


@pytest.mark.parametrize("domain", DOMAINS)
def test_query_builder_writes_only_own_tables(domain):
    """`insert(Table, …)` / `update(Table, …)` (app.core.rows) name only the domain's own Table classes."""
    from app.domains import manifests

    owner = {table.__name__: manifest.name for manifest in manifests() for table in manifest.tables}
    bad = []
    for path in _files(domain):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("insert", "update")
                    and node.args and isinstance(node.args[0], ast.Name)):
                table = node.args[0].id
                if owner.get(table) not in (None, domain, "shell"):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} writes {table} (owned by {owner[table]})")
    assert not bad, "\n".join(bad)


def test_no_module_over_600_lines():
    """Split a module before it passes 600 lines (a controllers/ or services/ package, like ledger's)."""
    bad = [f"{p.relative_to(ROOT)}: {n} lines" for p in sorted(APP.rglob("*.py"))
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not bad, "\n".join(bad)


def test_no_function_over_60_lines_without_a_reason():
    """A function longer than 60 lines (decorators included) says why: `# long: reason` on the line above it or on
    its def line."""
    bad = []
    for path in sorted(APP.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            size = node.end_lineno - start + 1
            header = lines[start - 2:max(node.lineno, node.body[0].lineno - 1)]  # the line above, decorators, def
            if size > MAX_FUNCTION_LINES and not any("# long:" in line for line in header):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}() is {size} lines")
    assert not bad, "\n".join(bad)
