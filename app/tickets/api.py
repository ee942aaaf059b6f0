"""What other domains may use of tickets (issue #13): reads only for now. The only module another
domain imports from app.tickets. Keep these names stable; add, don't rename."""

from app.tickets.queries import get_ticket, ticket_by_number, tickets_for_customer, tickets_for_device  # noqa: F401
