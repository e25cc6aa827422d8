"""credit-desk: the Flask application factory."""

from __future__ import annotations

from flask import Flask, g

from .bootstrap import Services, bootstrap
from .config import PROJECT_ROOT, load_config
from .extensions import csrf, login_manager

__version__ = "0.1.0"


def create_app(test_config: dict | None = None, *, services: Services | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(test_config))
    svc = services or bootstrap(app.config)
    app.extensions["credit_desk"] = svc

    csrf.init_app(app)
    login_manager.init_app(app)

    @login_manager.user_loader
    def _load_user(user_id: str):
        from .models import User
        from .web.common import db_session

        user = db_session().get(User, int(user_id))
        return user if user is not None and user.active else None

    @app.teardown_appcontext
    def _close_session(exc):
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'",
        )
        return response

    from .api import register_api
    from .cli import register_cli
    from .error_pages import register_error_pages
    from .routing import register_converters
    from .web import register_web

    register_converters(app)
    register_web(app)
    register_api(app)
    register_cli(app)
    register_error_pages(app)
    return app
