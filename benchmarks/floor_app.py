"""The LOGIN FLOOR of benchmarks/web_pages.py: the product's app serving the bare pages' HTML.

The product's page and the bare page (benchmarks/bare_pages.py) differ by two things: what every
request of the product pays whatever the page (gunicorn's WSGI handling in Flask, the product's
before/after request hooks, the signed session cookie, the user's row loaded by Flask-Login, the
request's transaction and the security headers), and what each page's own code costs (its ORM
queries and loading, its templates and layout). This module measures the first one alone: it builds
the product exactly as the production recipe does (`app:create_app()`) and adds ONE route,
`/_floor/<name>`, behind flask_login's `login_required`, whose body is the bare page's HTML for
`name`, produced by the bare pages' own WSGI app (same query, same minimal template).

So `floor rps / bare rps` is what the framework and the login cost at best, and
`product rps / floor rps` what is left to each page's own code. The floor is information, not a
target.

The route exists only here: the real product (`app:create_app()`) never registers it. Served as
`gunicorn 'benchmarks.floor_app:app'` with the product's environment (DATABASE_URL, SECRET_KEY,
...) plus BARE_TODAY (ISO date), as the bare pages take it.
"""

from __future__ import annotations

import datetime as dt
import os

from flask import Response, request
from flask_login import login_required

from app import create_app
from benchmarks.bare_pages import make_app


def _bare_page(bare_app, name: str) -> Response:
    """The bare WSGI app's answer for `/<name>?<the Flask request's query string>`."""
    environ = {"PATH_INFO": f"/{name}", "QUERY_STRING": request.query_string.decode("latin-1")}
    status: list[str] = []

    def start_response(status_line, _headers, _exc_info=None):
        status.append(status_line)

    body = b"".join(bare_app(environ, start_response))
    return Response(body, status=int(status[0].split(" ", 1)[0]), content_type="text/html; charset=utf-8")


def build_app():
    app = create_app()  # the production recipe, unchanged
    # The product's database (DATABASE_URL, as the product reads it) and the bare pages' day.
    bare = make_app(app.config["DATABASE_URL"], dt.date.fromisoformat(os.environ["BARE_TODAY"]))

    @app.route("/_floor/<name>", endpoint="benchmark_floor")
    @login_required
    def floor(name: str):
        return _bare_page(bare, name)

    return app


app = build_app()
