"""Fixed reference data: restriction and removal codes ("códigos de restrição e baixa"), states."""

from __future__ import annotations

_INCLUSION_PF = (
    ("12", "Mensalidade em atraso"),
    ("13", "Serviço de telecomunicações"),
    ("14", "Crediário/carnê"),
    ("20", "Duplicata mercantil"),
    ("21", "Contrato de prestação de serviço"),
    ("22", "Nota promissória"),
)
# Companies are not sold on "carnê"; they do get service invoices ("duplicata de serviço").
_INCLUSION_PJ = (
    ("12", "Mensalidade em atraso"),
    ("13", "Serviço de telecomunicações"),
    ("20", "Duplicata mercantil"),
    ("21", "Contrato de prestação de serviço"),
    ("22", "Nota promissória"),
    ("24", "Duplicata de prestação de serviço"),
)
_REMOVAL = (
    ("90", "Pagamento da dívida"),
    ("91", "Acordo/renegociação"),
    ("92", "Solicitação do credor"),
    ("93", "Decurso de prazo (prescrição)"),
)

# The removal reasons the API accepts; no removal code is needed for this bureau.
REMOVAL_REASONS = ("payment", "manual", "expired", "agreement")

PERSON_TYPES = ("PF", "PJ")

STATES = frozenset(
    ("AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
     "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO")
)  # fmt: skip


def restriction_reasons(person_type: str) -> list[dict[str, str]]:
    inclusion = _INCLUSION_PF if person_type == "PF" else _INCLUSION_PJ
    return [{"code": code, "description": text, "kind": "inclusion"} for code, text in inclusion] + [
        {"code": code, "description": text, "kind": "removal"} for code, text in _REMOVAL
    ]


def inclusion_codes(person_type: str) -> frozenset[str]:
    inclusion = _INCLUSION_PF if person_type == "PF" else _INCLUSION_PJ
    return frozenset(code for code, _ in inclusion)
