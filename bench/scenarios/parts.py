"""Parts pages (issue #4). Quality bar: the part page (stock by location + last 50
movements) at 1M ledger rows keeps p99 within 1.5× of the same page at 10k rows —
run `python -m bench --scale 10000 --only parts` and `--scale 1000000 --only parts`.
"""

SEED_STEP = "parts"  # --scale N → N more stock movements

PAGES = [
    ("parts list (warehouse)", "/parts", "warehouse", "list"),
    ("parts search by name", "/parts?q=%E5%BD%95%E5%83%8F%E6%9C%BA", "warehouse", "list"),
    ("scan: serial → unit (redirect)", "/parts/go?q={serial}", "warehouse"),
    ("part page, busiest bulk part", "/parts/{bulk_part}", "warehouse", "list"),
    ("part page, busiest serialised part", "/parts/{serial_part}", "warehouse", "list"),
    ("unit page", "/parts/units/{unit_id}", "warehouse"),
    ("location page, central warehouse", "/parts/locations/{central}", "warehouse"),
    ("reorder list", "/parts/reorder", "warehouse", "list"),
    ("emergency store", "/emergency", "gm"),
]


async def params() -> dict:
    from app.core.db import fetch

    bulk = await fetch("SELECT m.part_id, COUNT(*) AS n FROM stock_move m JOIN part p ON p.id = m.part_id "
                       "WHERE p.serialised = false GROUP BY m.part_id ORDER BY n DESC LIMIT 1")
    serial = await fetch("SELECT m.part_id, COUNT(*) AS n FROM stock_move m JOIN part p ON p.id = m.part_id "
                         "WHERE p.serialised = true GROUP BY m.part_id ORDER BY n DESC LIMIT 1")
    unit = await fetch("SELECT id, serial FROM serial_unit WHERE location_id IS NOT NULL ORDER BY id LIMIT 1")
    central = await fetch("SELECT id FROM stock_location WHERE code = 'CENTRAL'")
    return {
        "bulk_part": bulk[0]["part_id"] if bulk else 1,
        "serial_part": serial[0]["part_id"] if serial else 1,
        "unit_id": unit[0]["id"] if unit else 1,
        "serial": unit[0]["serial"] if unit else "none",
        "central": central[0]["id"] if central else 1,
    }
