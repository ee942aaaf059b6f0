"""Access, tested against an expected-access table kept HERE (issue #11 / DoD 9), not read back from the routes.

The table below was written from the README's role tables and each domain's issue; a route whose declared
permission drifts from it fails here, for every role and anonymous, for every method (POST included). A new
route must be added to the table (the last test fails on any route missing from it).

Columns: method, path, the roles allowed (PUBLIC = anyone, also signed out).
"""

from __future__ import annotations

import re

import pytest

from app.core.roles import ROLES
from tests.conftest import Client

EXPECTED = """
GET   /                                                            desk field eng_manager bench qc warehouse finance manager gm admin
GET   /admin/settings                                              admin
POST  /admin/settings                                              admin
GET   /admin/throttles                                             admin
POST  /admin/throttles/{throttle_id:int}/clear                     admin
GET   /admin/users                                                 admin
GET   /admin/users/new                                             admin
POST  /admin/users/new                                             admin
GET   /admin/users/{user_id:int}                                   admin
POST  /admin/users/{user_id:int}                                   admin
POST  /admin/users/{user_id:int}/active                            admin
POST  /admin/users/{user_id:int}/password                          admin
GET   /audit                                                       manager admin
GET   /bench                                                       desk eng_manager bench qc warehouse finance manager gm
GET   /bench/burn-in                                               bench qc manager admin
POST  /bench/burn-in                                               manager admin
GET   /bench/column/{status:str}                                   desk eng_manager bench qc warehouse finance manager gm
GET   /bench/overdue                                               desk eng_manager bench qc warehouse finance manager gm
GET   /bench/photos/{photo_id:int}                                 desk eng_manager bench qc warehouse finance manager gm
GET   /bench/receive                                               desk bench qc
POST  /bench/receive                                               desk bench qc
GET   /bench/replacements                                          bench qc manager
POST  /bench/replacements/{replacement_id:int}                     manager
GET   /bench/report                                                bench qc manager gm
GET   /bench/report.xlsx                                           bench qc manager gm
GET   /bench/scan                                                  desk eng_manager bench qc warehouse finance manager gm
GET   /bench/{rma_id:int}                                          desk eng_manager bench qc warehouse finance manager gm
GET   /bench/{rma_id:int}/card                                     desk eng_manager bench qc warehouse finance manager gm
POST  /bench/{rma_id:int}/consult                                  desk
POST  /bench/{rma_id:int}/cost                                     bench qc
POST  /bench/{rma_id:int}/decision                                 desk
GET   /bench/{rma_id:int}/form/{action:str}                        desk eng_manager bench qc warehouse finance manager gm
POST  /bench/{rma_id:int}/handover                                 bench qc
POST  /bench/{rma_id:int}/parts                                    bench qc
POST  /bench/{rma_id:int}/parts/return                             bench qc
POST  /bench/{rma_id:int}/payment                                  finance
POST  /bench/{rma_id:int}/photos                                   desk bench qc
GET   /bench/{rma_id:int}/print/exception                          desk eng_manager bench qc warehouse finance manager gm
GET   /bench/{rma_id:int}/print/slip                               desk eng_manager bench qc warehouse finance manager gm
POST  /bench/{rma_id:int}/quote                                    desk
POST  /bench/{rma_id:int}/{action:str}                             desk bench qc manager
GET   /contracts/{contract_id:int}                                 desk field eng_manager bench qc warehouse finance manager gm admin
GET   /contracts/{contract_id:int}/edit                            desk manager
POST  /contracts/{contract_id:int}/edit                            desk manager
POST  /contracts/{contract_id:int}/stage                           desk manager
GET   /customers                                                   desk field eng_manager bench qc warehouse finance manager gm admin
GET   /customers/export.xlsx                                       desk finance manager admin
GET   /customers/import                                            desk manager
POST  /customers/import                                            desk manager
POST  /customers/import/commit                                     desk manager
GET   /customers/import/template.csv                               desk manager
GET   /customers/new                                               desk manager
POST  /customers/new                                               desk manager
GET   /customers/offices                                           manager admin
POST  /customers/offices                                           manager admin
GET   /customers/pick                                              desk field eng_manager bench qc warehouse finance manager gm admin
GET   /customers/{customer_id:int}                                 desk field eng_manager bench qc warehouse finance manager gm admin
GET   /customers/{customer_id:int}/contracts/new                   desk manager
POST  /customers/{customer_id:int}/contracts/new                   desk manager
POST  /customers/{customer_id:int}/documents                       desk manager
GET   /customers/{customer_id:int}/edit                            desk manager
POST  /customers/{customer_id:int}/edit                            desk manager
GET   /customers/{customer_id:int}/quote                           desk finance manager admin
GET   /customers/{customer_id:int}/quote/print                     desk finance manager admin
GET   /customers/{customer_id:int}/renewal-letter                  desk manager
GET   /devices                                                     desk field eng_manager bench qc warehouse finance manager gm admin
GET   /devices/export.xlsx                                         desk finance manager admin
GET   /devices/lookup                                              desk field eng_manager bench qc warehouse finance manager gm admin
GET   /devices/new                                                 desk manager
POST  /devices/new                                                 desk manager
GET   /devices/{device_id:int}                                     desk field eng_manager bench qc warehouse finance manager gm admin
GET   /devices/{device_id:int}/edit                                desk manager
POST  /devices/{device_id:int}/edit                                desk manager
POST  /devices/{device_id:int}/events                              desk field eng_manager bench manager
POST  /documents/{document_id:int}/delete                          desk manager
GET   /documents/{document_id:int}/download                        desk field eng_manager bench qc warehouse finance manager gm admin
GET   /emergency                                                   desk field eng_manager warehouse manager gm
GET   /emergency/new                                               desk field eng_manager warehouse manager gm
POST  /emergency/new                                               desk field eng_manager warehouse manager gm
GET   /emergency/{req_id:int}                                      desk field eng_manager warehouse manager gm
POST  /emergency/{req_id:int}/cancel                               desk field eng_manager warehouse manager gm
POST  /emergency/{req_id:int}/decide                               gm
POST  /emergency/{req_id:int}/issue                                warehouse
GET   /emergency/{req_id:int}/print                                desk field eng_manager warehouse manager gm
GET   /healthz                                                     PUBLIC
POST  /lang                                                        PUBLIC
GET   /loaners                                                     desk field eng_manager bench qc warehouse manager gm
GET   /loaners/availability                                        desk field eng_manager bench qc warehouse manager gm
GET   /loaners/checkin                                             warehouse manager
POST  /loaners/checkin                                             warehouse manager
GET   /loaners/checkout                                            warehouse manager
POST  /loaners/checkout                                            warehouse manager
GET   /loaners/go                                                  desk field eng_manager bench qc warehouse manager gm
GET   /loaners/offer                                               desk field eng_manager bench qc warehouse manager gm
GET   /loaners/out                                                 desk field eng_manager bench qc warehouse manager gm
GET   /loaners/overdue                                             desk field eng_manager bench qc warehouse manager gm
GET   /loaners/pick                                                desk field eng_manager bench warehouse manager
GET   /loaners/requests                                            desk field eng_manager bench qc warehouse manager gm
POST  /loaners/requests                                            desk field eng_manager bench warehouse manager
GET   /loaners/requests/new                                        desk field eng_manager bench warehouse manager
POST  /loaners/requests/{request_id:int}/cancel                    desk field eng_manager bench warehouse manager
GET   /loaners/{loan_id:int}                                       desk field eng_manager bench qc warehouse manager gm
POST  /loaners/{loan_id:int}/case-finished                         desk warehouse manager
POST  /loaners/{loan_id:int}/checkin                               warehouse manager
POST  /loaners/{loan_id:int}/convert                               warehouse manager
GET   /loaners/{loan_id:int}/notice                                desk field eng_manager bench qc warehouse manager gm
POST  /loaners/{loan_id:int}/recall                                desk warehouse manager
GET   /login                                                       PUBLIC
POST  /login                                                       PUBLIC
POST  /logout                                                      desk field eng_manager bench qc warehouse finance manager gm admin
GET   /parts                                                       desk field eng_manager bench qc warehouse manager gm
GET   /parts/go                                                    desk field eng_manager bench qc warehouse manager gm
GET   /parts/locations                                             desk field eng_manager bench qc warehouse manager gm
POST  /parts/locations                                             warehouse manager
GET   /parts/locations/{location_id:int}                           desk field eng_manager bench qc warehouse manager gm
POST  /parts/locations/{location_id:int}/keeper                    warehouse manager
GET   /parts/locations/{location_id:int}/sheet                     desk field eng_manager bench qc warehouse manager gm
GET   /parts/moves/{move_id:int}/note                              desk field eng_manager bench qc warehouse manager gm
GET   /parts/new                                                   warehouse manager
POST  /parts/new                                                   warehouse manager
GET   /parts/purchases                                             warehouse manager gm
POST  /parts/purchases/from-reorder                                warehouse manager
GET   /parts/purchases/new                                         warehouse manager
POST  /parts/purchases/new                                         warehouse manager
GET   /parts/purchases/{pr_id:int}                                 warehouse manager gm
POST  /parts/purchases/{pr_id:int}/approve                         manager gm
POST  /parts/purchases/{pr_id:int}/receive                         warehouse
GET   /parts/reconcile                                             warehouse manager gm
GET   /parts/reorder                                               warehouse manager gm
POST  /parts/reorder/recompute                                     warehouse manager
GET   /parts/stocktakes                                            warehouse manager gm
POST  /parts/stocktakes                                            warehouse manager gm
GET   /parts/stocktakes/{st_id:int}                                warehouse manager gm
POST  /parts/stocktakes/{st_id:int}/counts                         warehouse manager gm
POST  /parts/stocktakes/{st_id:int}/decide                         manager gm
GET   /parts/stocktakes/{st_id:int}/sheet                          warehouse manager gm
GET   /parts/units/{unit_id:int}                                   desk field eng_manager bench qc warehouse manager gm
GET   /parts/units/{unit_id:int}/barcode.svg                       desk field eng_manager bench qc warehouse manager gm
GET   /parts/units/{unit_id:int}/label                             desk field eng_manager bench qc warehouse manager gm
POST  /parts/units/{unit_id:int}/move                              warehouse manager gm
GET   /parts/{part_id:int}                                         desk field eng_manager bench qc warehouse manager gm
GET   /parts/{part_id:int}/barcode.svg                             desk field eng_manager bench qc warehouse manager gm
GET   /parts/{part_id:int}/edit                                    warehouse manager
POST  /parts/{part_id:int}/edit                                    warehouse manager
GET   /parts/{part_id:int}/label                                   desk field eng_manager bench qc warehouse manager gm
POST  /parts/{part_id:int}/minimum                                 warehouse manager
POST  /parts/{part_id:int}/move                                    warehouse manager gm
GET   /parts/{part_id:int}/moves                                   desk field eng_manager bench qc warehouse manager gm
GET   /parts/{part_id:int}/qr.svg                                  desk field eng_manager bench qc warehouse manager gm
GET   /price-list                                                  desk finance manager admin
POST  /price-list/{tier_id:int}                                    admin
GET   /receivables                                                 desk finance manager gm
GET   /receivables/ageing                                          desk finance manager gm
GET   /receivables/ageing.xlsx                                     desk finance manager gm
GET   /receivables/calendar                                        desk finance manager gm
POST  /receivables/calendar                                        finance admin
GET   /receivables/export.xlsx                                     desk finance manager gm
GET   /receivables/extensions                                      desk finance manager gm
POST  /receivables/extensions/{eid:int}/decide                     manager gm
GET   /receivables/ledger                                          desk field bench finance manager gm
POST  /receivables/ledger/check                                    desk
GET   /receivables/new                                             finance
POST  /receivables/new                                             finance
GET   /receivables/overdue                                         desk finance manager gm
GET   /receivables/sales                                           desk finance manager gm
POST  /receivables/sales                                           desk
GET   /receivables/statements                                      desk finance manager gm
POST  /receivables/statements/draft                                desk
GET   /receivables/statements/{sid:int}                            desk finance manager gm
POST  /receivables/statements/{sid:int}/move                       desk finance manager
POST  /receivables/statements/{sid:int}/pay                        finance
GET   /receivables/statements/{sid:int}/print                      desk finance manager gm
GET   /receivables/{rid:int}                                       desk finance manager gm
POST  /receivables/{rid:int}/extension                             desk finance
POST  /receivables/{rid:int}/followup                              manager
POST  /receivables/{rid:int}/pay                                   finance
GET   /renewals                                                    desk manager
POST  /renewals/notice                                             desk manager
POST  /renewals/settings                                           manager admin
GET   /rma/{rma_id:int}                                            desk eng_manager bench qc warehouse finance manager gm
GET   /slips                                                       finance manager gm
POST  /slips/books                                                 finance
GET   /slips/books/{book_id:int}                                   field bench finance manager gm
POST  /slips/books/{book_id:int}/handback                          finance
POST  /slips/books/{book_id:int}/issue                             finance
POST  /slips/books/{book_id:int}/stubs                             finance
POST  /slips/books/{book_id:int}/use                               field bench finance
POST  /slips/exchange                                              finance
GET   /slips/mine                                                  field bench finance
GET   /slips/reconcile                                             finance manager gm
GET   /slips/reconcile.xlsx                                        finance manager gm
GET   /slips/reconcile/print                                       finance manager gm
POST  /slips/{slip_id:int}/delay                                   field bench finance
POST  /slips/{slip_id:int}/transfer                                finance
POST  /slips/{slip_id:int}/void                                    field bench finance
GET   /tickets                                                     desk field eng_manager manager gm admin
POST  /tickets                                                     desk eng_manager
GET   /tickets/board                                               desk eng_manager manager gm admin
GET   /tickets/entitlement                                         desk eng_manager
GET   /tickets/my                                                  field
GET   /tickets/new                                                 desk eng_manager
GET   /tickets/number/{number:str}                                 desk field eng_manager manager gm admin
GET   /tickets/visits/{visit_id:int}                               desk field eng_manager manager gm admin
POST  /tickets/visits/{visit_id:int}/arrive                        desk field eng_manager
POST  /tickets/visits/{visit_id:int}/call                          desk field eng_manager
POST  /tickets/visits/{visit_id:int}/depart                        desk field eng_manager
POST  /tickets/visits/{visit_id:int}/finish                        desk field eng_manager
GET   /tickets/visits/{visit_id:int}/print                         desk field eng_manager manager gm admin
POST  /tickets/visits/{visit_id:int}/sign                          desk field eng_manager
GET   /tickets/visits/{visit_id:int}/signature                     desk field eng_manager manager gm admin
GET   /tickets/{ticket_id:int}                                     desk field eng_manager manager gm admin
POST  /tickets/{ticket_id:int}/close                               desk eng_manager
POST  /tickets/{ticket_id:int}/dispatch                            desk eng_manager
POST  /tickets/{ticket_id:int}/pause                               desk field eng_manager
GET   /tickets/{ticket_id:int}/print/dispatch                      desk field eng_manager manager gm admin
POST  /tickets/{ticket_id:int}/resume                              desk field eng_manager
POST  /tickets/{ticket_id:int}/revisit                             desk eng_manager
GET   /scrap                                                       bench qc warehouse finance manager gm
GET   /scrap/new                                                   warehouse
POST  /scrap/new                                                   warehouse
GET   /scrap/photos/{photo_id:int}                                 bench qc warehouse finance manager gm
GET   /scrap/reports/quality                                       qc warehouse manager gm
POST  /scrap/reports/quality                                       warehouse
POST  /scrap/reports/quality/convene                               warehouse
GET   /scrap/reports/writeoffs                                     finance manager gm
GET   /scrap/reports/writeoffs.xlsx                                finance manager gm
GET   /scrap/{rid:str}                                             bench qc warehouse finance manager gm
POST  /scrap/{rid:str}/annotate                                    warehouse
POST  /scrap/{rid:str}/convene                                     warehouse
POST  /scrap/{rid:str}/dispose                                     warehouse
POST  /scrap/{rid:str}/gm                                          gm
POST  /scrap/{rid:str}/manager                                     manager
POST  /scrap/{rid:str}/opinion                                     bench qc warehouse
POST  /scrap/{rid:str}/photos                                      bench qc warehouse
GET   /scrap/{rid:str}/print                                       bench qc warehouse finance manager gm
POST  /scrap/{rid:str}/withdraw                                    warehouse
POST  /parts/stocktakes/{st_id:int}/scan                           warehouse manager gm
POST  /parts/stocktakes/{st_id:int}/finish                         warehouse manager gm
POST  /bench/{rma_id:int}/replacement                              bench qc
GET   /bench/{rma_id:int}/print/quote                              desk eng_manager bench qc warehouse finance manager gm
"""


def _table() -> dict[tuple[str, str], frozenset[str] | None]:
    out = {}
    for line in EXPECTED.strip().splitlines():
        parts = line.split()
        method, path, roles = parts[0], parts[1], parts[2:]
        out[(method, path)] = None if roles == ["PUBLIC"] else frozenset(roles)
    return out


TABLE = _table()


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_is_in_the_expected_table(app):
    """A new route without an expected-access row fails: decide who may use it, here."""
    missing = []
    for route in app.routes:
        if route.path.startswith("/static"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler":
                continue
            for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                if (method, route.path) not in TABLE:
                    missing.append(f"{method} {route.path}")
    assert not missing, "\n".join(sorted(missing))


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_access_matches_the_expected_table(app, login_as, method):
    """Each role (and anonymous) against every route of this method: refused roles get the guard's 403
    (anonymous: the sign-in page), allowed roles never do."""
    clients = {role: await login_as(role) for role in ROLES}
    anon = Client(app)
    failures = []
    for (m, path), allowed in sorted(TABLE.items()):
        if m != method or path in ("/logout", "/login", "/lang"):
            continue
        url = _fill(path)
        for who, client in [("anonymous", anon), *clients.items()]:
            if method == "GET":
                response = await client.get(url)
            else:
                response = await client.post_form(url, {})
            guard_said_no = response.status_code == 403 and response.headers.get("x-access") == "denied"
            if allowed is None:
                ok = not guard_said_no and response.status_code < 500
            elif who == "anonymous":
                ok = response.status_code in (303, 401) and "/login" in response.headers.get(
                    "location", response.headers.get("hx-redirect", ""))
            elif who in allowed:
                ok = not guard_said_no and response.status_code < 500
            else:
                ok = guard_said_no
            if not ok:
                failures.append(f"{who:12} {method} {url}: {response.status_code} (allowed: {who in (allowed or ROLES)})")
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:80])
