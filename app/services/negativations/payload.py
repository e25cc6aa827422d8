"""The inclusion request as stored JSON: exactly what was sent, so retries send the same bytes.

The payload is built once from the client, branch and titles, stored on the negativation before
the call (rule 5: "keep the address that was sent"), and turned back into the bureau port's
`NegativationRequest` for every attempt. Comparing two payloads tells whether data changed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.models import Branch, Party, Title
from integrations.bureau import Address, Creditor, Debtor, NegativationRequest, TitleLine


def build_payload(party: Party, branch: Branch, titles: list[Title], restriction_code: str) -> dict[str, Any]:
    lines = [
        {
            "title_id": t.id,
            "number": t.number,
            "due_date": t.due_date.isoformat(),
            # Rule 1: the amount sent is the OPEN amount, never the original amount.
            "amount": str(t.open_amount),
        }
        for t in sorted(titles, key=lambda t: (t.due_date, t.id))
    ]
    return {
        "document": party.document,
        "document_type": party.document_kind,
        "restriction_code": restriction_code,
        "debtor": {
            "name": party.name,
            "email": party.email or None,
            "phone": party.mobile or party.phone or None,
            "address": {
                "street": (party.street or "").strip(),
                "number": (party.number or "").strip(),
                "complement": (party.complement or "").strip(),
                "district": (party.district or "").strip(),
                "city": (party.city or "").strip(),
                "state": (party.state or "").strip().upper(),
                "zip": "".join(c for c in party.zip or "" if c.isdigit()),
            },
        },
        "creditor": {"cnpj": branch.cnpj, "name": branch.name},  # rule 8: the branch is the creditor
        "titles": lines,
        "total_amount": str(sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))),
    }


def request_from_payload(payload: dict[str, Any]) -> NegativationRequest:
    debtor = payload["debtor"]
    return NegativationRequest(
        document=payload["document"],
        document_type=payload["document_type"],
        restriction_code=payload["restriction_code"],
        debtor=Debtor(
            name=debtor["name"],
            address=Address(**debtor["address"]),
            email=debtor.get("email"),
            phone=debtor.get("phone"),
        ),
        creditor=Creditor(**payload["creditor"]),
        titles=tuple(
            TitleLine(
                number=line["number"],
                due_date=dt.date.fromisoformat(line["due_date"]),
                amount=Decimal(line["amount"]),
            )
            for line in payload["titles"]
        ),
    )


def same_request(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when both payloads send the bureau the same request (the key can then be reused)."""
    return request_from_payload(a) == request_from_payload(b)
