"""Every mapped class, imported here so that Alembic and create_all see the whole schema."""

from . import party_search  # noqa: F401  (search indexes on parties)
from .audit import AuditEvent
from .base import Base
from .branch_policy import BranchPolicy
from .branches import Branch, BureauIntegration
from .collections import CollectionPolicy, CollectionRun, CollectionRunItem
from .commerce import DeliveryLog, OutboundUpdate
from .consultation_policy import ConsultationPolicy
from .consultations import Consultation, ConsultationStatus
from .credit import (
    CreditAccount,
    CreditLimitChange,
    CreditPolicy,
    CreditRelease,
    CustomerStatusChange,
    Reservation,
)
from .customer_imports import CustomerImport
from .events import EventDelivery, EventDeliveryAttempt, EventEndpoint
from .locks import JobLock
from .negativations import Negativation, NegativationEvent, NegativationTitle
from .parties import Contact, CustomerStatus, Party, Stage
from .reconciliation import Divergence, ReconciliationRun
from .security import InboundSignature, LoginThrottle
from .settings import AppSetting
from .title_totals import TitleOpenTotal
from .titles import Payment, Title, TitleStatus
from .users import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "AppSetting",
    "AuditEvent",
    "Base",
    "Branch",
    "BranchPolicy",
    "BureauIntegration",
    "CollectionPolicy",
    "CollectionRun",
    "CollectionRunItem",
    "Consultation",
    "ConsultationPolicy",
    "ConsultationStatus",
    "Contact",
    "CreditAccount",
    "CreditLimitChange",
    "CreditPolicy",
    "CreditRelease",
    "CustomerImport",
    "CustomerStatusChange",
    "DeliveryLog",
    "Divergence",
    "EventDelivery",
    "EventDeliveryAttempt",
    "EventEndpoint",
    "InboundSignature",
    "JobLock",
    "LoginThrottle",
    "Negativation",
    "NegativationEvent",
    "NegativationTitle",
    "OutboundUpdate",
    "CustomerStatus",
    "Party",
    "Payment",
    "ReconciliationRun",
    "Reservation",
    "Role",
    "Stage",
    "Title",
    "TitleOpenTotal",
    "TitleStatus",
    "User",
]
