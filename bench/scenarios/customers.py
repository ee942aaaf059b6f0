"""Customers and the installed base (issue #3): device lookup by serial and the customer list.

`--scale N` adds N devices (and N/20 customers). Target: at 100k devices the p99 of these
pages stays within 1.5× of the same pages at the 5k-device demo size.
"""

SEED_STEP = "customers"

PAGES = [
    ("customer list, first page", "/customers", "desk", "list"),
    ("customer list, search by name", "/customers?q={cus_name_part}", "desk", "list"),
    ("customer list, search by device serial", "/customers?q={cus_serial}", "desk", "list"),
    ("customer list, filtered by office, deep page", "/customers?office={cus_office_id}&after={cus_after_id}", "desk", "list"),
    ("customer page", "/customers/{cus_customer_id}", "desk"),
    ("device lookup by serial", "/devices/lookup?serial={cus_serial}", "field"),
    ("device list, first page", "/devices", "desk", "list"),
    ("device list, ending soon", "/devices?warranty=ending", "desk", "list"),
    ("device page", "/devices/{cus_device_id}", "desk"),
    ("renewals due", "/renewals", "desk", "list"),
]


async def params() -> dict:
    from urllib.parse import quote

    from app.core.db import fetch

    top = (await fetch("SELECT MAX(id) AS m FROM device"))[0]["m"] or 1
    device = (await fetch("SELECT id, serial, customer_id FROM device WHERE id >= {} ORDER BY id LIMIT 1", top // 2))[0]
    customer = (await fetch("SELECT id, name, office_id FROM customer WHERE id = {}", device["customer_id"]))[0]
    after = await fetch("SELECT id FROM customer WHERE office_id = {} ORDER BY name, id LIMIT 1 OFFSET 100",
                        customer["office_id"])
    return {"cus_serial": device["serial"], "cus_device_id": device["id"], "cus_customer_id": customer["id"],
            "cus_name_part": quote(customer["name"][:3]), "cus_office_id": customer["office_id"],
            "cus_after_id": after[0]["id"] if after else customer["id"]}
