"""Settings read from the environment. Nothing here touches the network or the database."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "sim"}


def _instance_secret(instance_dir: Path, name: str, make) -> str:
    """Development fallback: a key generated once and kept in instance/, never in git."""
    path = instance_dir / name
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = make()
    # Created 0600 by open() itself (write-then-chmod leaves a window where others can read the key);
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config dict from the environment (overrides win, used by tests)."""
    env = os.environ
    overrides = dict(overrides or {})
    instance_dir = Path(overrides.get("INSTANCE_DIR") or env.get("CREDITDESK_INSTANCE", DEFAULT_INSTANCE))
    production = env.get("CREDITDESK_ENV", "development") == "production"

    def secret(var: str, filename: str, make) -> str:
        if var in overrides:
            return overrides[var]
        if env.get(var):
            return env[var]
        if production:
            raise RuntimeError(f"{var} must be set in production")
        return _instance_secret(instance_dir, filename, make)

    from cryptography.fernet import Fernet

    cfg = {
        "ENV_NAME": "production" if production else "development",
        "INSTANCE_DIR": str(instance_dir),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance_dir / 'credit-desk.sqlite3'}"),
        "SQL_ECHO": _bool(env.get("SQL_ECHO")),
        # Per process. A request may hold two connections at once (its session and a service's short
        # transaction), so keep pool + overflow at least twice the worker threads.
        "DATABASE_POOL_SIZE": int(env.get("DATABASE_POOL_SIZE", "10")),
        "DATABASE_MAX_OVERFLOW": int(env.get("DATABASE_MAX_OVERFLOW", "20")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies need HTTPS; the demo on 127.0.0.1 is plain HTTP.
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), default=production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), default=production),
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_S", "28800")),
        "WTF_CSRF_TIME_LIMIT": None,
        "SIMULATOR_URL": env.get("SIMULATOR_URL", "http://127.0.0.1:5050"),
        "COMMERCE_SIMULATOR_URL": env.get("COMMERCE_SIMULATOR_URL", "http://127.0.0.1:5060"),
        "COMMERCE_CONNECT_TIMEOUT": float(env.get("COMMERCE_CONNECT_TIMEOUT", "3.05")),
        "COMMERCE_READ_TIMEOUT": float(env.get("COMMERCE_READ_TIMEOUT", "10")),
        "COMMERCE_XML_MAX_BYTES": int(env.get("COMMERCE_XML_MAX_BYTES", str(10 * 1024 * 1024))),
        "BUREAU_CONNECT_TIMEOUT": float(env.get("BUREAU_CONNECT_TIMEOUT", "3.05")),
        "BUREAU_READ_TIMEOUT": float(env.get("BUREAU_READ_TIMEOUT", "20")),
        "BUREAU_MAX_ATTEMPTS": int(env.get("BUREAU_MAX_ATTEMPTS", "4")),
        # The circuit breaker opens after the bureau answered only 5xx/timeouts for this long.
        "BUREAU_OUTAGE_AFTER_S": float(env.get("BUREAU_OUTAGE_AFTER_S", "120")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024))),
        # The daily reconciliation (HH:MM, São Paulo; pace when the branch's limit is unknown)
        # and the outbound events' HTTP timeouts.
        "RECONCILIATION_TIME": env.get("RECONCILIATION_TIME", "04:00"),
        "RECONCILIATION_RATE_PER_S": float(env.get("RECONCILIATION_RATE_PER_S", "10")),
        "EVENTS_CONNECT_TIMEOUT": float(env.get("EVENTS_CONNECT_TIMEOUT", "3.05")),
        "EVENTS_READ_TIMEOUT": float(env.get("EVENTS_READ_TIMEOUT", "10")),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto we trust (docs/security.md).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Inbound commerce XML: a signed request older or newer than this is refused (replay window).
        "COMMERCE_SIGNATURE_MAX_SKEW_S": int(env.get("COMMERCE_SIGNATURE_MAX_SKEW_S", "300")),
        # The collections panel's figures are kept this long per web process, the position's time on
        # the page and an "Atualizar agora" link (docs/benchmarks.md); 0 computes them on every view.
        "DASHBOARD_CACHE_SECONDS": int(env.get("DASHBOARD_CACHE_SECONDS", "60")),
        "TESTING": False,
    }
    cfg["SECRET_KEY"] = secret("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(48))
    cfg["ENCRYPTION_KEY"] = secret("ENCRYPTION_KEY", "encryption_key", lambda: Fernet.generate_key().decode())
    cfg.update(overrides)
    return cfg
