"""Exception handlers: readable pages (or HTMX fragments), never a traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.status_codes import HTTP_303_SEE_OTHER

from app.core.i18n import _

log = logging.getLogger("shouhou")


class DomainError(Exception):
    """The one refusal every service raises (ARCHITECTURE rule 4; pretix `OrderError`).

    `message` is shown to the user (already translated); `errors` maps form fields to their messages
    (`field=` is the shorthand for one); `status` is 400 (bad input), 403 (not allowed), 404 (no such
    thing) or 409 (conflict); `link` points where the user can resolve it (e.g. the loan that blocks).
    One handler below renders it; a controller catches it only to re-render its own form.
    """

    def __init__(self, message: str, *, errors: dict[str, str] | None = None, field: str | None = None,
                 status: int = 400, link: str | None = None, current: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})
        if field and field not in self.errors:
            self.errors[field] = message
        self.status = status
        self.link = link or ""
        self.current = current


class Stale(DomainError):
    """409: somebody changed the row since it was shown ("already changed by X at HH:MM")."""

    def __init__(self, current: dict | None = None, message: str | None = None):
        current = current or {}
        if message is None:
            who, at = current.get("changed_by") or "?", current.get("changed_at")
            message = _("Already changed by %(who)s at %(at)s. Reload and try again.", who=who, at=_hhmm(at))
        super().__init__(message, status=409, current=current)


def _hhmm(value) -> str:
    from app.core.i18n import format_datetime

    text = format_datetime(value, "short") if value is not None and hasattr(value, "astimezone") else str(value or "")
    return text[-5:] if text else "?"


def fix(**errors: str) -> DomainError:
    """400 with field messages: `raise fix(quantity=_("At least 1."))`."""
    return DomainError(_("Please correct the marked fields."), errors=errors)


def refused(message: str | None = None) -> DomainError:
    return DomainError(message or _("Your roles do not allow this action."), status=403)


def not_found(message: str | None = None) -> DomainError:
    return DomainError(message or _("There is nothing at this address."), status=404)


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


def _error_response(request: Request, status: int, detail: str = "", link: str = "", own: bool = False) -> Response:
    from app.core.web import is_htmx, render_string  # web → middleware → accounts → status → errors: import late

    title, message = _messages(status, detail)
    # A service's own explanation (e.g. "already moved by li.na at 10:42") beats the generic text;
    # Litestar's default detail is just the status phrase.
    if own or (detail and 400 <= status < 500 and status != 403 and detail != _default_phrase(status)):
        message = detail
    request_id = request.scope.get("request_id", "")
    template = "errors/_message.html" if is_htmx(request) else "errors/error.html"
    try:
        body = render_string(request, template, status=status, title=title, message=message, request_id=request_id,
                             link=link, _flashes=[])
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        log.exception("error page failed to render")
        body = f"<h1>{status}</h1><p>{request_id}</p>"
    from app.core.middleware import SECURITY_HEADERS

    # errors raised before the app's middleware ran (an unknown path's 404) still carry the security headers
    return Response(content=body, status_code=status, media_type="text/html", headers=dict(SECURITY_HEADERS))


def _default_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    """Not signed in (or session expired/tampered): go to the login page."""
    from app.core.web import is_htmx

    target = request.url.path + (("?" + request.url.query) if request.url.query else "")
    login = "/login?next=" + quote(target, safe="")
    if is_htmx(request):
        return Response(content="", status_code=401, headers={"HX-Redirect": login})
    if request.method != "GET":
        login = "/login"
    return Response(content="", status_code=HTTP_303_SEE_OTHER, headers={"Location": login})


def permission_denied(request: Request, exc: PermissionDeniedException) -> Response:
    """The route guard said no (the user's roles lack the route's permission). Marked, so tests can tell it
    from a service's own refusal of one record (e.g. someone else's slip book)."""
    response = _error_response(request, 403, str(exc.detail))
    response.headers["x-access"] = "denied"
    return response


def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500:
        log.error("HTTP %s on %s: %s", exc.status_code, request.url.path, exc.detail)
    return _error_response(request, exc.status_code, str(exc.detail))


def domain_error(request: Request, exc: DomainError) -> Response:
    """A refused action: the error page, or for HTMX the message fragment (toast) with the same status."""
    if exc.status >= 500:
        log.error("DomainError %s on %s: %s", exc.status, request.url.path, exc.message)
    message = exc.message
    if exc.errors and exc.errors.keys() - {"__all__"}:
        message = message + " " + " ".join(f"{v}" for v in exc.errors.values() if v and v != exc.message)
    return _error_response(request, exc.status, message.strip(), link=exc.link, own=True)


def _bad_value(exc: BaseException) -> bool:
    """A value the database cannot hold (a number beyond its column, a NUL byte, a lone surrogate, text too
    long): the caller's input, so a 400 — the write transaction it happened in has rolled back (issue #11)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (OverflowError, UnicodeEncodeError)):
            return True
        module = type(exc).__module__ or ""
        if module.startswith("asyncpg") and any(c.__name__ == "DataError" for c in type(exc).__mro__):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def server_error(request: Request, exc: Exception) -> Response:
    if _bad_value(exc):
        log.warning("bad value on %s (request %s): %s", request.url.path, request.scope.get("request_id"), type(exc).__name__)
        return _error_response(request, 400, _("A value is out of range or contains characters that cannot be stored."),
                               own=True)
    log.exception("unhandled error on %s (request %s)", request.url.path, request.scope.get("request_id"))
    return _error_response(request, 500)


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    NotAuthorizedException: not_authorized,
    PermissionDeniedException: permission_denied,
    HTTPException: http_error,
    Exception: server_error,
}
