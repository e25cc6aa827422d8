"""Credit accounts, limits and purchases (authorisation, reservation, settlement) and their per-branch policy."""
