"""The one place that turns a `next=` value into a redirect target: same host, path only.

An open redirect lets a phishing link start on our domain and land on another one, so anything
that is not a plain path on this site (another host, a scheme, `//host`, `/\\host`, control
characters) falls back to a page of ours. An absolute URL to our own host is reduced to its path.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import request


def safe_next(target: str | None, fallback: str) -> str:
    """`target` when it stays on this site (reduced to path, query and fragment), else `fallback`."""
    if not target or any(ord(c) < 32 or c == "\\" for c in target):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:
        return fallback
    same_site = parts.scheme in {"", "http", "https"} and parts.netloc in {"", request.host}
    if not same_site or (parts.scheme and not parts.netloc):
        return fallback
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return fallback
    return urlunsplit(("", "", path, parts.query, parts.fragment))
