"""The baseline row: a bare Litestar hello, served by the same uvicorn flags as the app in the same run.

`/healthz` is compared with this (target: at least 50% of its req/s), every page with `/healthz`."""

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> str:
    return "Hello, world!"


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello], openapi_config=None)
