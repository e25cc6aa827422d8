"""Titles (boletos), payments, and their CSV import and export."""
