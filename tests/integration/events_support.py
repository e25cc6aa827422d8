"""Helpers of the outbound events tests: endpoints, the outbox rows, and a small JSON Schema check
(the subset app.services.events.schemas uses: type, enum, const, properties, required, items,
additionalProperties, pattern)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models.events import EventDelivery
from app.services.core.audit import Actor
from app.services.events import endpoints

ADMIN = Actor(name="ana", user_id=None, role="admin")
SECRET = "whsec_test-secret-0123456789"
_TYPES = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool, "null": type(None)}


def add_endpoint(services, branch_id: int, url: str = "https://erp.example.com.br/hooks", *, types=None,
                 full_documents: bool = False, secret: str = SECRET, name: str = "ERP") -> int:
    from app.services.events.catalog import EVENT_TYPES

    with services.session_factory() as s:
        endpoint, _ = endpoints.save_endpoint(s, services.box, ADMIN, branch_id, endpoints.EndpointInput(
            name=name, url=url, event_types=list(types or EVENT_TYPES), full_documents=full_documents,
            secret=secret))
        s.commit()
        return endpoint.id


def deliveries(services, event_type: str | None = None) -> list[EventDelivery]:
    with services.session_factory() as s:
        stmt = select(EventDelivery).order_by(EventDelivery.id)
        if event_type:
            stmt = stmt.where(EventDelivery.event_type == event_type)
        return list(s.scalars(stmt))


def check_schema(value, schema: dict, path: str = "$") -> None:
    """Raise AssertionError naming the first place where `value` breaks `schema`."""
    if "const" in schema:
        assert value == schema["const"], f"{path}: {value!r} != {schema['const']!r}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else types
        ok = any(isinstance(value, _TYPES[t]) and not (t == "integer" and isinstance(value, bool)) for t in types)
        assert ok, f"{path}: {value!r} is not {types}"
    if isinstance(value, str) and "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{path}: {value!r} does not match {schema['pattern']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check_schema(value[key], sub, f"{path}.{key}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                if key not in schema.get("properties", {}):
                    check_schema(item, extra, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check_schema(item, schema["items"], f"{path}[{i}]")
