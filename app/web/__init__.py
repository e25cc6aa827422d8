"""Web blueprints (pt-BR UI). Each area registers itself here."""

from __future__ import annotations

from flask import Flask, render_template, send_from_directory
from flask_login import current_user

from .bureau_alerts import register_bureau_alerts
from .common import can, credit_enabled
from .errors import register_error_pages
from .formatting import register_filters
from .navigation import nav_items, query_with
from .party_tabs import tabs_for
from .print_header import print_header


def register_web(app: Flask) -> None:
    # crm first: its tabs ("Dados", "Contatos", consultations) lead the party page's tab bar.
    from . import consultation_policy, consultations, crm  # isort: skip
    from . import audit_views, auth, branches, home, integrations, negativations, titles, users
    from . import credit, credit_admin  # isort: skip  (its client tab follows the CRM's)
    from . import collections, dashboard  # isort: skip
    from . import account, api_tokens, events, reconciliation  # isort: skip  (own password; admin: API tokens)

    for module in (auth, home, branches, integrations, users, audit_views, titles, negativations,
                   crm, consultations, consultation_policy, credit, credit_admin, collections,
                   dashboard, reconciliation, events, account, api_tokens):
        app.register_blueprint(module.bp)
    from . import bulk, customer_imports  # bulk actions; the customer XML upload screen

    app.register_blueprint(bulk.bp)
    app.register_blueprint(customer_imports.bp)
    register_filters(app)
    register_error_pages(app)
    register_bureau_alerts(app)
    app.jinja_env.globals.update(nav_items=nav_items, query_with=query_with, can=can, print_header=print_header)

    @app.template_global()
    def party_tabs(party):
        return tabs_for(party, credit_enabled())

    @app.context_processor
    def _nav_context():
        enabled = True
        if current_user.is_authenticated:
            enabled = credit_enabled()
        return {"credit_enabled": enabled}

    @app.errorhandler(403)
    def _forbidden(_e):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def _not_found(_e):
        return render_template("errors/404.html"), 404

    @app.errorhandler(400)
    def _bad_request(e):
        return render_template("errors/400.html", message=getattr(e, "description", "")), 400

    @app.route("/favicon.ico")
    def _favicon():  # browsers ask for it on every page, before any login
        return send_from_directory(app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                                   max_age=86400)

    @app.errorhandler(413)
    def _too_large(_e):
        return render_template("errors/400.html", message="Arquivo ou requisição grande demais."), 413
