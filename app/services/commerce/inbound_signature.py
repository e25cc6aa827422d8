"""The commerce platform's customer posts are signed: checked here, before a single byte is parsed.

The platform signs `"<X-Timestamp>." + body` with HMAC-SHA256 and the branch's platform secret (the
same secret, stored encrypted in the branch's credit policy, that signs credit-desk's outbound
updates). The body is copied to a spooled temporary file while the HMAC is computed, so a large
batch is not held in memory; only a body whose signature matches reaches the XML parser. A
signature is accepted once: replaying a captured request inside the time window is refused too.
"""

from __future__ import annotations

import datetime as dt
import hmac
import tempfile
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import InboundSignature
from app.services.commerce.customer_xml import CHUNK, BodyTooLarge
from app.services.core.clock import now_utc
from app.services.core.crypto import SecretBox
from app.services.core.errors import DomainError
from app.services.credit.policy import platform_secret, policy_for
from integrations.commerce.signing import fresh, inbound_mac

DEFAULT_MAX_SKEW_S = 300
SPOOL_IN_MEMORY = 1024 * 1024  # larger bodies go to a temporary file


class SignatureRefused(DomainError):
    code = "invalid_signature"
    http_status = 401


def verified_body(session: Session, box: SecretBox, branch_id: int, stream: BinaryIO, *, timestamp: str | None,
                  signature: str | None, max_bytes: int, max_skew_s: int = DEFAULT_MAX_SKEW_S,
                  now: dt.datetime | None = None) -> BinaryIO:
    """The body, rewound, once its signature, freshness and novelty are proven; raises otherwise.

    The accepted signature joins the caller's transaction: commit before the import so that a
    concurrent replay waits for it and is refused.
    """
    secret = platform_secret(policy_for(session, branch_id), box)
    if not secret:
        raise SignatureRefused("A filial não tem o segredo HMAC da plataforma configurado (Crédito › Política de "
                               "crédito); clientes enviados a ela são recusados.", code="signature_not_configured")
    if not timestamp or not signature:
        raise SignatureRefused("Requisição sem assinatura: envie os cabeçalhos X-Timestamp e X-Signature "
                               "(docs/commerce-xml.md).", code="signature_required")
    now = now or now_utc()
    if not fresh(timestamp, now=now.timestamp(), max_skew_s=max_skew_s):
        raise SignatureRefused(f"X-Timestamp inválido ou fora da janela de {max_skew_s} segundos; assine a "
                               "requisição no momento do envio.", code="stale_request")
    mac = inbound_mac(secret, timestamp)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - handed to the caller
    size = 0
    try:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge(f"O XML excede o tamanho máximo de {max_bytes // (1024 * 1024)} MB por "
                                   "requisição; divida o lote.")
            mac.update(chunk)
            spool.write(chunk)
        expected = "sha256=" + mac.hexdigest()
        if not hmac.compare_digest(expected, signature.strip()):
            raise SignatureRefused("Assinatura HMAC inválida para este corpo e X-Timestamp.")
        _spend(session, expected[7:], branch_id, now, max_skew_s)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _spend(session: Session, digest: str, branch_id: int, now: dt.datetime, max_skew_s: int) -> None:
    """Record the signature; the same one again (a replay inside the window) is refused."""
    # Older signatures carry a timestamp the freshness check already refuses: no need to keep them.
    session.execute(delete(InboundSignature).where(
        InboundSignature.received_at < now - dt.timedelta(seconds=2 * max_skew_s)))
    if session.scalar(select(InboundSignature.signature).where(InboundSignature.signature == digest)):
        raise _replayed()
    try:
        with session.begin_nested():
            session.add(InboundSignature(signature=digest, branch_id=branch_id, received_at=now))
    except IntegrityError as exc:  # the same request arrived twice at once
        raise _replayed() from exc


def _replayed() -> SignatureRefused:
    return SignatureRefused("Esta requisição assinada já foi recebida; para reenviar, assine de novo com um "
                            "X-Timestamp novo.", code="replayed_request")
