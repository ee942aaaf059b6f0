"""Per-domain message catalogs.

Each domain owns `app/<domain>/translations/zh/LC_MESSAGES/messages.po` (the core shell
owns `app/core/translations/…`); at run time they are merged (app.core.i18n.translations), so
domains never edit one shared file. `make` compiles every catalog.

    python tools/i18n.py core            # shell: app/*.py, app/accounts, app/audit, app/core, templates (non-domain)
    python tools/i18n.py parts           # app/parts/**.py, templates/parts/**, templates/print/parts/**, seed/parts.py
    python tools/i18n.py parts --fill zh.py   # also take translations from a dict ZH = {"English": "中文"}

Prints the entries still untranslated; exit status 1 when any remain.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CORE_DIRS = ["app/core"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def sources(domain: str) -> list[Path]:
    files: list[Path] = []
    if domain == "core":
        files += [p for p in (ROOT / "app").glob("*.py")]
        for d in CORE_DIRS:
            files += list((ROOT / d).rglob("*.py"))
        domain_dirs = {p.name for p in (ROOT / "app").iterdir() if (p / "__init__.py").exists()} - {"accounts", "audit", "core"}
        for path in (ROOT / "templates").rglob("*.html"):
            rel = path.relative_to(ROOT / "templates").parts
            if rel[0] in domain_dirs or (rel[0] == "print" and len(rel) > 2 and rel[1] in domain_dirs):
                continue
            files.append(path)
        files += list((ROOT / "seed").glob("demo.py"))
    else:
        files += list((ROOT / "app" / domain).rglob("*.py"))
        files += list((ROOT / "templates" / domain).rglob("*.html"))
        files += list((ROOT / "templates" / "print" / domain).rglob("*.html"))
        seed = ROOT / "seed" / f"{domain}.py"
        if seed.exists():
            files.append(seed)
    return sorted(f for f in files if "translations" not in f.parts)


def catalog_dir(domain: str) -> Path:
    return ROOT / "app" / domain / "translations"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("domain")
    parser.add_argument("--fill", action="append", default=[])
    args = parser.parse_args()

    template = Catalog(project="Shouhou", domain="messages")
    for path in sources(args.domain):
        method = "jinja2.ext.babel_extract" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if method != "python" else {}
        for lineno, message, comments, context in extract_from_file(method, str(path), keywords=KEYWORDS, options=options):
            template.add(message, None, [(str(path.relative_to(ROOT)), lineno)], auto_comments=comments, context=context)

    po_path = catalog_dir(args.domain) / "zh" / "LC_MESSAGES" / "messages.po"
    if po_path.exists():
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale="zh")
    else:
        catalog = Catalog(locale="zh", project="Shouhou", domain="messages")
    catalog.update(template, no_fuzzy_matching=True)
    fills: dict[str, str] = {}
    for fill in args.fill:
        fills.update(runpy.run_path(fill)["ZH"])
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in fills:
            message.string = fills[key] if isinstance(message.id, str) else (fills[key],)
        translated = message.string
        if not (all(translated) if isinstance(translated, (list, tuple)) else translated):
            missing.append(key)
        message.locations = []
        message.flags.discard("fuzzy")
    catalog.obsolete.clear()
    catalog.fuzzy = False
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as fh:
        write_po(fh, catalog, sort_output=True, ignore_obsolete=True, include_previous=False, width=120, omit_header=False)
    print(f"{po_path.relative_to(ROOT)}: {len(catalog)} entries, {len(missing)} untranslated")
    for key in missing:
        print("  untranslated:", key)
    return 1 if missing else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
