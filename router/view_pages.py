"""How the router's /logs and /dashboards pages are drawn: Jinja2 templates with autoescape
(everything from Elasticsearch or Prometheus is text, never markup), a content security policy
that runs scripts only from this router, and the static files they load (our stylesheet and
script, and plotly.js served from the plotly package's own file: nothing from the network)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATIC_CACHE = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


@cache
def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
    )
    env.filters["query"] = lambda values: urlencode({k: v for k, v in values.items() if v})
    return env


def page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def problem_page(status_code: int, title: str, sentence: str, back: str) -> HTMLResponse:
    """A 4xx/5xx as a page: what is wrong, in a sentence, and a way back."""
    return page("view_problem.html", status_code, title=title, sentence=sentence, back=back)


@cache
def plotly_js() -> Path:
    """plotly.js as the plotly Python package ships it (package_data/plotly.min.js)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is not installed; run `make setup`")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


static_files = APIRouter(include_in_schema=False)
OWN_STATIC = {"views.css": "text/css", "dashboard.js": "text/javascript"}


@static_files.get("/static/plotly.min.js")
def plotly_script() -> Response:
    return FileResponse(plotly_js(), media_type="text/javascript", headers=STATIC_CACHE)


@static_files.get("/static/{name}")
def own_static(name: str) -> Response:
    if name not in OWN_STATIC:
        return problem_page(404, "Not found", f"There is no static file {name[:60]!r}.", "/logs")
    return FileResponse(HERE / "static" / name, media_type=OWN_STATIC[name], headers=STATIC_CACHE)
