"""Response headers every answer gets: no caching of our pages, HSTS in production, the usual hardening.

`Cache-Control: no-store` goes on everything except the static files: pages show personal data,
CSV exports are personal data and API answers carry both; a shared proxy or the browser's back
button must not keep a copy after logout. Static files (CSS, JS, images) stay cacheable.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000; includeSubDomains"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; frame-ancestors 'none'")


def init_security_headers(app: Flask) -> None:
    production = app.config.get("ENV_NAME") == "production"

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
        if production:
            # Browsers then refuse plain HTTP to this host for a year (set only behind HTTPS).
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies (TRUSTED_PROXIES=N), take the client address and scheme from their
    X-Forwarded-* headers. Login throttling counts per client address: without this every login
    would come from the proxy's address and share one counter. Never set it without a proxy that
    overwrites those headers, or a client could pick its own address."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
