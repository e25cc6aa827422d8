"""Domain errors. Each carries a stable code (for the API) and a pt-BR message (for people)."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class ValidationError(DomainError):
    code = "validation_error"
    http_status = 422

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message, code=code, details={"fields": field_errors or {}})
        self.field_errors = field_errors or {}


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class CreditAnalysisDisabled(DomainError):
    code = "credit_analysis_disabled"
    http_status = 403

    def __init__(self):
        super().__init__(
            "A integração com análise de crédito está desativada. "
            "Um administrador pode ativá-la em Configurações > Parâmetros."
        )


class BureauCallFailed(DomainError):
    """The bureau could not be reached or refused; the message is already in pt-BR.

    Never 502 (a proxy's answer): 503 when the bureau is unavailable (try again later), 424 when the
    call failed for a reason of its own (credentials refused, rejected, maybe done). The stable
    `bureau_*` code says which (app.services.settings.bureau_messages.call_failed builds it)."""

    code = "bureau_error"
    http_status = 424

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None,
                 http_status: int | None = None):
        super().__init__(message, code=code, details=details)
        if http_status is not None:
            self.http_status = http_status
