"""credit-desk: the Flask application factory."""

from __future__ import annotations

from flask import Flask

from .bootstrap import Services, bootstrap
from .config import PROJECT_ROOT, load_config
from .extensions import csrf, login_manager
from .request_scope import close_request, commit_request
from .security_headers import init_security_headers, trust_proxies

__version__ = "0.1.0"


class CreditDeskFlask(Flask):
    def dispatch_request(self):
        """The view's return is where the request's transaction commits (app.request_scope): an
        exception, a DomainError included, skips the commit and its handler rolls back."""
        response = super().dispatch_request()
        commit_request()
        return response


def create_app(test_config: dict | None = None, *, services: Services | None = None) -> Flask:
    app = CreditDeskFlask(
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
    def _load_user(session_user_id: str):
        from .request_scope import db_session
        from .services.settings.sessions import user_for_session

        return user_for_session(db_session(), session_user_id)

    app.teardown_appcontext(close_request)

    init_security_headers(app)
    trust_proxies(app)

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
