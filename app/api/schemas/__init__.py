"""Pydantic models of the /api/v1 contract: request bodies, query strings and answers, per area."""
