"""What the web forms fuzz reads from the pages: internal links and <form>s, with a real HTML parser.

The crawl is breadth-first from a start page, bounded, and follows only links of this site that
read (GET): never logout, exports or downloads. Pages are grouped by shape (digits in the path
become one placeholder and the query's keys are kept, not their values), so a list of a hundred
clients costs a few detail pages, not a hundred.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

# Links that end the session or answer a file instead of a page.
SKIP_LINK = re.compile(r"/logout|\.csv\b|/exportar|/download|/static/|/api/|openapi|/favicon")


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str  # the page the form was found on
    action: str  # path and query the form submits to
    method: str  # "get" or "post"
    fields: list[Field] = field(default_factory=list)

    @property
    def csrf(self) -> str | None:
        return next((f.value for f in self.fields if f.name == "csrf_token"), None)

    @property
    def shape(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, shape_of(self.action), tuple(sorted({f.name for f in self.fields})))


def shape_of(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"/\d+", "/#", parts.path) + ("?" + "&".join(keys) if keys else "")


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[dict[str, str], list[Field]]] = []
        self.by_id: dict[str, tuple[dict[str, str], list[Field]]] = {}  # fields with form="id"
        self._open = False  # inside a <form>: fields outside one belong to none
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append((a, []))
            self._open = True
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
        elif "name" not in a or tag not in {"input", "select", "textarea"}:
            return
        else:
            self._field(tag, a)

    def _field(self, tag: str, a: dict[str, str]) -> None:
        # A field belongs to the form it sits in, or to the one its `form="id"` names (the lists'
        # row checkboxes sit in the table, outside the bulk action's form).
        if a.get("form"):
            owner = self.by_id.setdefault(a["form"], ({}, []))
        elif self._open:
            owner = self.forms[-1]
        else:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind not in {"submit", "button", "reset", "image"}:
                owner[1].append(Field(a["name"], kind, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = Field(a["name"], "select")
            owner[1].append(self._select)
        else:
            self._textarea = Field(a["name"], "textarea")
            owner[1].append(self._textarea)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_page(url: str, html: str) -> tuple[list[str], list[Form]]:
    """(internal links, forms) of a page; links and actions as path?query of this site."""
    parser = _PageParser()
    parser.feed(html)
    links = [u for u in (_internal(url, href) for href in parser.links) if u]
    forms = []
    for attrs, fields in parser.forms:
        fields = fields + parser.by_id.get(attrs.get("id", ""), ({}, []))[1]
        action = _internal(url, attrs.get("action") or url)
        if action is None:  # logout, an export: not a form to fuzz
            continue
        forms.append(Form(url, action, (attrs.get("method") or "get").lower(), fields))
    return links, forms


def _internal(base: str, href: str) -> str | None:
    if href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    full = urlsplit(urljoin("http://localhost" + base, href))
    if full.netloc != "localhost" or SKIP_LINK.search(full.path):
        return None
    return full.path + ("?" + full.query if full.query else "")


def crawl(client, starts: list[str], *, max_pages: int, per_shape: int = 2):
    """Visit pages breadth-first: (pages visited with their status, forms found, server errors)."""
    queue, seen, shapes = deque(starts), set(starts), {}
    visited: list[tuple[str, int]] = []
    forms: list[Form] = []
    errors: list[str] = []
    while queue and len(visited) < max_pages:
        url = queue.popleft()
        shape = shape_of(url)
        if shapes.get(shape, 0) >= per_shape:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        resp = client.get(url)
        visited.append((url, resp.status_code))
        if resp.status_code >= 500:
            errors.append(f"GET {url} -> {resp.status_code}")
        if resp.status_code != 200 or not resp.content_type.startswith("text/html"):
            continue
        links, page_forms = parse_page(url, resp.get_data(as_text=True))
        forms.extend(page_forms)
        for link in links:
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return visited, forms, errors
