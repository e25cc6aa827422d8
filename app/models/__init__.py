"""Every mapped class, imported here so that Alembic and create_all see the whole schema."""

from .audit import AuditEvent
from .base import Base
from .branches import Branch, BureauIntegration
from .locks import JobLock
from .parties import Contact, CustomerStatus, Party, Stage
from .settings import AppSetting
from .titles import Payment, Title, TitleStatus
from .users import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "AppSetting",
    "AuditEvent",
    "Base",
    "Branch",
    "BureauIntegration",
    "Contact",
    "JobLock",
    "CustomerStatus",
    "Party",
    "Payment",
    "Role",
    "Stage",
    "Title",
    "TitleStatus",
    "User",
]
