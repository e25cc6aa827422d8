"""The credit-analysis switch as pages read it: one database read per app process every
`CACHE_SECONDS`, not one per request.

Every page asks for the switch (the menu, the party tabs, each screen it gates). The copy lives in
the Flask app (`app.extensions`), so each app, each test's included, starts without one. A change
made through this process (the settings page, the settings API) drops the copy at once; one made
by another worker or the CLI shows within `CACHE_SECONDS`. Services that refuse work when the
switch is off (`switches.require_credit_analysis`) keep reading the database.
"""

from __future__ import annotations

import threading
import time

from flask import current_app
from sqlalchemy.orm import Session

from app.services.settings import switches

CACHE_SECONDS = 2.0
_KEY = "credit_desk.credit_switch"
_lock = threading.Lock()


def credit_switch_on(session: Session) -> bool:
    box = current_app.extensions.setdefault(_KEY, {})
    now = time.monotonic()
    with _lock:
        read_at, enabled = box.get("read_at"), box.get("enabled")
    if read_at is not None and now - read_at < CACHE_SECONDS:
        return enabled
    enabled = switches.credit_analysis_enabled(session)
    with _lock:
        box.update(read_at=now, enabled=enabled)
    return enabled


def forget_credit_switch() -> None:
    """Called where this process changes the switch."""
    with _lock:
        current_app.extensions.pop(_KEY, None)
