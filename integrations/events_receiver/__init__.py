"""A small receiver of credit-desk's outbound events: verifies each signature, deduplicates on the
event id, prints what arrived. Used by `make demo` and the tests; a model for the ISP's own receiver.

    python -m integrations.events_receiver --port 5970 --secret whsec_...
"""

from .app import ReceiverApp, start_in_thread

__all__ = ["ReceiverApp", "start_in_thread"]
