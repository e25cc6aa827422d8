"""The bureau changing its mind behind credit-desk's back, on purpose, so the demo and the
tests can show every kind of divergence the reconciliation finds:

    POST /_sim/negativations/{protocol}/remove    removed at the bureau (credit-desk never asked)
    POST /_sim/negativations/{protocol}/activate  live again (a removal the bureau lost), or active
                                                  before the notice period credit-desk was told
    POST /_sim/negativations/{protocol}/forget    the bureau no longer knows the protocol (404)
    POST /_sim/negativations/{protocol}/amount    {"total_amount": "12.34"}: the bureau shows another amount

Like the rest of /_sim, no auth and no faults. The status answer (GET /v1/negativations/{protocol})
carries the amount the bureau holds, `total_amount`, which these controls can change.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from .clock import iso_instant, now
from .store import Store

ACTIONS = ("remove", "activate", "forget", "amount")
_MONEY = re.compile(r"[0-9]+\.[0-9]{2}")


class UnknownProtocol(LookupError):
    pass


def apply(store: Store, protocol: str, action: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """Apply one control; ValueError for a bad request, UnknownProtocol for a protocol never seen."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {list(ACTIONS)}")
    at = now()
    with store.transaction() as conn:
        row = conn.execute("SELECT payload, activates_at FROM negativations WHERE protocol = ?", (protocol,)).fetchone()
        if row is None:
            raise UnknownProtocol(protocol)
        payload, activates_at = json.loads(row[0]), row[1]
        if action == "remove":
            conn.execute("UPDATE negativations SET removed_at = ?, removal_reason = 'bureau' WHERE protocol = ?",
                         (at, protocol))
            return {"protocol": protocol, "status": "removed", "removed_at": iso_instant(at)}
        if action == "activate":
            conn.execute("UPDATE negativations SET removed_at = NULL, removal_reason = NULL, activates_at = ?"
                         " WHERE protocol = ?", (min(activates_at, at), protocol))
            # A removal key answered before would replay "removed": the bureau has forgotten that removal.
            _forget_keys(conn, "removal", protocol)
            return {"protocol": protocol, "status": "active", "activated_at": iso_instant(min(activates_at, at))}
        if action == "forget":
            conn.execute("DELETE FROM negativation_titles WHERE protocol = ?", (protocol,))
            conn.execute("DELETE FROM negativations WHERE protocol = ?", (protocol,))
            _forget_keys(conn, None, protocol)
            return {"protocol": protocol, "status": "forgotten"}
        amount = (body or {}).get("total_amount")
        if not isinstance(amount, str) or not _MONEY.fullmatch(amount) or Decimal(amount) <= 0:
            raise ValueError('total_amount must be a decimal string such as "12.34"')
        payload["total_amount"] = amount
        conn.execute("UPDATE negativations SET payload = ? WHERE protocol = ?",
                     (json.dumps(payload, ensure_ascii=False), protocol))
        return {"protocol": protocol, "total_amount": amount}


def total_amount(store: Store, protocol: str) -> str | None:
    """The amount the bureau holds for the protocol: what was sent, unless changed by `amount`."""
    with store.transaction() as conn:
        row = conn.execute("SELECT payload FROM negativations WHERE protocol = ?", (protocol,)).fetchone()
    if row is None:
        return None
    value = json.loads(row[0]).get("total_amount")
    return value if isinstance(value, str) else None


def _forget_keys(conn, scope: str | None, protocol: str) -> None:
    # The stored answers are JSON bodies naming the protocol (json.dumps default separators).
    pattern = f'%"protocol": "{protocol}"%'
    if scope is None:
        conn.execute("DELETE FROM idempotency_keys WHERE body LIKE ?", (pattern,))
    else:
        conn.execute("DELETE FROM idempotency_keys WHERE scope = ? AND body LIKE ?", (scope, pattern))
