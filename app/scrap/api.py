"""What other domains may use of scrap (issue #14). The only module another domain imports from app.scrap.
Keep these names stable; add, don't rename."""

from app.scrap.queries import written_off_total  # noqa: F401  (finance: written-off value between two dates)
from app.scrap.services import get_by_number, get_request, open_unit_request  # noqa: F401
