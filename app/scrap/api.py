"""What other domains may use of scrap (issue #14). The only module another domain imports from app.scrap.
Keep these names stable; add, don't rename.

- `written_off_total(start, end)` → Decimal: the value written off (disposed) between two dates (finance).
- `quality_report("YYYY-MM")` → rows by supplier (records, qty, scrapped, value) of the month's quality-defect
  records, for the bench's monthly report (R-RMA-08, R-SCR-02).
- `get_request(id)`, `get_by_number("BF-…")`, `open_unit_request(serial_unit_id)` → the record (dict) or None,
  e.g. for a unit page ("on scrap record BF-… since …").
"""

from app.scrap.queries import quality_report, written_off_total  # noqa: F401
from app.scrap.services import get_by_number, get_request, open_unit_request  # noqa: F401
