"""Demo data for `make demo`: idempotent, safe to run on every start.

Each area has a module with `seed(services, echo)`; they run in the order of AREAS.
"""

from __future__ import annotations

import importlib

AREAS = ["core", "crm", "titles", "collections", "credit", "events", "reconciliation"]


def seed(services, echo=print) -> None:
    for name in AREAS:
        importlib.import_module(f"app.demo.{name}").seed(services, echo)
