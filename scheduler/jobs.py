"""Scheduled jobs. Each is a thin caller of a service function (business rules live in app/services)."""

from __future__ import annotations
