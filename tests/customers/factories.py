"""Factories live in seed/customers.py (shared with other domains' tests)."""

from seed.customers import make_contract, make_customer, make_device, make_office  # noqa: F401
