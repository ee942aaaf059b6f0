"""Exception handlers: readable pages (or HTMX fragments), never a traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.status_codes import HTTP_303_SEE_OTHER

from app.i18n import _
from app.web import is_htmx, render_string

log = logging.getLogger("shouhou")


def _messages(status: int, detail: str) -> tuple[str, str]:
    if status == 403 and "CSRF" in detail:
        return _("Form expired"), _("This form was open too long or came from elsewhere. Reload the page and try again.")
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("Your roles do not allow this page or action.")),
        404: (_("Not found"), _("There is nothing at this address.")),
        405: (_("Not allowed"), _("This address does not take that kind of request.")),
        409: (_("Changed meanwhile"), _("Someone else changed this meanwhile. Reload and try again.")),
        429: (_("Too many requests"), _("Wait a moment and try again.")),
    }.get(status, (_("Something went wrong"), _("The error was logged. Try again, or tell the administrator the request id below.")))


def _error_response(request: Request, status: int, detail: str = "") -> Response:
    title, message = _messages(status, detail)
    # A service's own explanation (e.g. "already moved by li.na at 10:42") beats the generic text;
    # Litestar's default detail is just the status phrase.
    if detail and 400 <= status < 500 and status != 403 and detail != _default_phrase(status):
        message = detail
    request_id = request.scope.get("request_id", "")
    template = "errors/_message.html" if is_htmx(request) else "errors/error.html"
    try:
        body = render_string(request, template, status=status, title=title, message=message, request_id=request_id, _flashes=[])
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        log.exception("error page failed to render")
        body = f"<h1>{status}</h1><p>{request_id}</p>"
    return Response(content=body, status_code=status, media_type="text/html")


def _default_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    """Not signed in (or session expired/tampered): go to the login page."""
    target = request.url.path + (("?" + request.url.query) if request.url.query else "")
    login = "/login?next=" + quote(target, safe="")
    if is_htmx(request):
        return Response(content="", status_code=401, headers={"HX-Redirect": login})
    if request.method != "GET":
        login = "/login"
    return Response(content="", status_code=HTTP_303_SEE_OTHER, headers={"Location": login})


def permission_denied(request: Request, exc: PermissionDeniedException) -> Response:
    return _error_response(request, 403, str(exc.detail))


def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500:
        log.error("HTTP %s on %s: %s", exc.status_code, request.url.path, exc.detail)
    return _error_response(request, exc.status_code, str(exc.detail))


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s (request %s)", request.url.path, request.scope.get("request_id"))
    return _error_response(request, 500)


EXCEPTION_HANDLERS = {
    NotAuthorizedException: not_authorized,
    PermissionDeniedException: permission_denied,
    HTTPException: http_error,
    Exception: server_error,
}
