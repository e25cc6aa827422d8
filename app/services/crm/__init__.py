"""Leads, prospects and clients (parties) and their search."""
