"""What other domains may use of customers: reads and commands (issue #10, item 7).

The only module another domain imports from app.customers. Everything here raises the shared
DomainError / Stale only. Keep these names stable; add, don't rename."""

from app.customers.services import (  # noqa: F401
    DeviceInput,
    create_device,
    customer_entitlement,
    get_customer,
    get_device,
    list_offices,
    lookup_device,
    record_failure,
    record_repair,
    search_customers,
    warranty_status,
)


async def devices_of_customer(customer_id: int, limit: int = 200) -> list[dict]:
    """A customer's devices for pickers (the ticket intake, #13): id, serial, model, product name, site."""
    from app.core.db import fetch

    return await fetch("SELECT id, serial, model, product_name, site FROM device WHERE customer_id = {} "
                       f"ORDER BY id LIMIT {int(limit)}", customer_id)
