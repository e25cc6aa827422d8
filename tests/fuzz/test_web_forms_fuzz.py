"""Every web form and list filter under hypothesis: whatever a person (or a script) types, the answer
is never a server error.

An admin logs in (CSRF on, the real token kept) on a SQLite app seeded with the demo data and the
fake bureau; the crawl starts at / and follows this site's links (bounded, no logout, no exports),
parses every <form> with html.parser, and submits hypothesis-drawn values for its fields: text,
digits that str.isdigit() accepts but int() refuses (², ٣), full-width digits, integers past 64
bits, negatives, NaN/inf, impossible dates, very long strings, repeated keys. The query strings of
the list pages (filters, sort, cursor, page) and the login's `next=` get the same treatment.
Deterministic (a fixed seed per form); CREDITDESK_FUZZ_EXAMPLES raises the cases per form.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
import zlib

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from werkzeug.datastructures import MultiDict

from app import create_app
from app.bootstrap import bootstrap
from app.demo import seed as demo_seed
from app.models import Base, CollectionRun, EventEndpoint, Negativation, Party, Title
from app.services.core.audit import Actor
from app.services.settings import users as user_service
from integrations.fake_bureau import FakeBureau
from tests.clock import pin_clock

from .web_crawl import Form, crawl, parse_page, shape_of

FORM_EXAMPLES = int(os.environ.get("CREDITDESK_FUZZ_EXAMPLES", "10"))
QUERY_EXAMPLES = FORM_EXAMPLES + 5
USERNAME, PASSWORD = "fuzzadmin", "senha-de-fuzz-123"
NASTY = [
    "", " ", "abc", "-10", "0", "-1", "²", "٣", "３", "１２３", "٠١٢", "9223372036854775807",
    "2147483648", "9223372036854775808", str(2**64), str(10**30), "-9223372036854775809", "1e309", "NaN", "nan",
    "inf", "-inf", "Infinity", "31/02/2026", "1900-01-01", "01/01/0001", "99/99/9999", "2026-02-31",
    "29/02/2027", "1,5", "1.234,56", "12,345", "0,001", "R$ 1.000,00", "１.０００,００", "x" * 5000,
    "\x00", "a\x00b", "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "😀", "\u202e", "1 000",
    "+5", "0x10", "1_000", "true", "[]", "{}", "eyJhIjoxfQ", "WyJ4IiwgOTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",
    "00:00", "25:61", "/\\evil.example", "https://evil.example/",
]
# Query keys the list pages read, besides those their filter forms and links show.
LIST_KEYS = ["page", "per_page", "cursor", "after", "before", "sort", "dir", "order", "status", "kind",
             "branch_id", "party_id", "user_id", "q", "from", "to", "due_from", "due_to", "limit", "next"]
# Forms that would lock the fuzzing admin out of the app are not posted.
SELF_HARM = re.compile(r"/conta/senha|/logout")
# Actions that delete or switch off what later forms use: fuzzed last.
LAST = re.compile(r"excluir|revogar|cancelar|converter|renegociar|/configuracoes/parametros|/remover")

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def web_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("webfuzz")
    url = f"sqlite:///{folder / 'fuzz.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "fuzz", "INSTANCE_DIR": str(folder),
              "WTF_CSRF_ENABLED": True, "SIMULATOR_URL": "http://127.0.0.1:9",
              "ENCRYPTION_KEY": "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o="}
    bureau = FakeBureau()
    with pin_clock(dt.date(2026, 3, 16)):
        services = bootstrap(config, engine=engine, bureau_factory=lambda integration: bureau)
        demo_seed(services, echo=lambda *_: None)
        with services.session_factory() as s:
            user_service.create_user(s, Actor.system("fuzz"), username=USERNAME, name="Fuzz", password=PASSWORD,
                                     role="admin")
            s.commit()
        yield create_app(config, services=services), services
    engine.dispose()


def _login(client, next_: str | None = None):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    resp = client.post("/login", query_string={"next": next_} if next_ is not None else None,
                       data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, "the fuzzing admin could not log in"
    return resp


def _record_pages(services) -> list[str]:
    """Detail pages of the seeded records (the crawl alone may not reach every kind)."""
    pages = ["/"]
    with services.session_factory() as s:
        for model, path in ((Title, "/titulos/{}"), (Party, "/crm/cadastros/{}/dados"),
                            (Negativation, "/negativacoes/{}"), (EventEndpoint, "/eventos/{}"),
                            (CollectionRun, "/cobranca/execucoes/{}")):
            pages += [path.format(i) for i in s.scalars(select(model.id).order_by(model.id).limit(2))]
        for party_id in s.scalars(select(Party.id).where(Party.stage == "client").order_by(Party.id).limit(2)):
            pages += [f"/clientes/{party_id}/titulos", f"/credito/clientes/{party_id}",
                      f"/clientes/{party_id}/negativacoes/incluir", f"/clientes/{party_id}/negativacoes/remover"]
    return pages


def _value(options: list[str]):
    own = [o for o in options if o] or [""]
    return st.one_of(
        st.sampled_from(own),  # what the page offers, so that other fields get to be the bad one
        st.sampled_from(NASTY),
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.lists(st.sampled_from(NASTY + own), min_size=2, max_size=3),  # the key repeated
        st.none(),  # the key left out
    )


def _fields_strategy(names: dict[str, list[str]]):
    return st.fixed_dictionaries({name: _value(options) for name, options in names.items()})


def _multidict(drawn: dict, csrf: str | None, files: set[str]) -> MultiDict:
    out = MultiDict()
    for name, value in drawn.items():
        for item in (value if isinstance(value, list) else [value] if value is not None else []):
            if name in files:
                out.add(name, (io.BytesIO(item.encode("utf-8", "surrogatepass")), "fuzz.xml"))
            else:
                out.add(name, item)
    if csrf is not None:
        out["csrf_token"] = csrf
    return out


class Fuzzer:
    def __init__(self, client):
        self.client = client
        self.cases = 0
        self.failures: dict[tuple[str, str], str] = {}

    def send(self, method: str, url: str, params: MultiDict) -> None:
        self.cases += 1
        path, _, query = url.partition("?")
        try:
            if method == "get":
                merged = MultiDict([(k, v) for k, v in MultiDict(_qs(query)).items(multi=True) if k not in params])
                merged.update(params)
                resp = self.client.get(path, query_string=merged)
            else:
                resp = self.client.post(url, data=params, content_type="multipart/form-data")
        except Exception as exc:  # noqa: BLE001 - TESTING propagates the view's exception: that is the 500
            self._fail(method, url, params, f"{type(exc).__name__}: {str(exc)[:300]}")
            return
        if resp.status_code >= 500:
            self._fail(method, url, params, f"HTTP {resp.status_code}")
        elif resp.status_code == 302 and "/login" in resp.headers.get("Location", ""):
            _login(self.client)  # e.g. a session ended by a change the fuzz made: go on logged in

    def _fail(self, method, url, params, what):
        key = (f"{method.upper()} {shape_of(url)}", what.split(":")[0])
        shown = {k: [v[:40] if isinstance(v, str) else "<file>" for v in params.getlist(k)] for k in params
                 if k != "csrf_token"}
        self.failures.setdefault(key, f"{method.upper()} {url} {shown} -> {what}")


def _qs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl
    return parse_qsl(query, keep_blank_values=True)


def _fresh(client, form: Form) -> Form | None:
    """The same form read again from its page (a current CSRF token and current options)."""
    resp = client.get(form.page)
    if resp.status_code != 200:
        return None
    _, forms = parse_page(form.page, resp.get_data(as_text=True))
    return next((f for f in forms if f.shape == form.shape), None)


def _fuzz_form(fuzzer: Fuzzer, form: Form) -> None:
    names: dict[str, list[str]] = {}
    for f in form.fields:
        if f.name != "csrf_token":
            names.setdefault(f.name, []).extend(f.options or [f.value])
    files = {f.name for f in form.fields if f.kind == "file"}

    @given(drawn=_fields_strategy(names))
    @seed(zlib.crc32(repr(form.shape).encode()))  # fixed, and different per form
    @settings(max_examples=FORM_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    def run(drawn):
        fuzzer.send(form.method, form.action, _multidict(drawn, form.csrf, files))

    run()


def _fuzz_query(fuzzer: Fuzzer, url: str, keys: list[str]) -> None:
    @given(drawn=st.fixed_dictionaries({}, optional={k: _value([]) for k in keys}))
    @seed(zlib.crc32(url.encode()))
    @settings(max_examples=QUERY_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    def run(drawn):
        fuzzer.send("get", url, _multidict(drawn, None, set()))

    run()


def _fuzz_login_next(fuzzer: Fuzzer, app) -> None:
    """After a valid login, any `next=` lands on a page of this site (never a 500, never off-site)."""
    @given(target=st.one_of(st.sampled_from(["/%0D%0ASet-Cookie:x=1", "/\r\nLocation: https://evil.example",
                                             "//evil.example", "/\\evil.example", "https:evil.example", "/ok\x00",
                                             "http://localhost/titulos/", "/titulos/?q=%"] + NASTY[:12]),
                            st.text(max_size=30).map(lambda t: "/" + t)))
    @seed(1)
    @settings(max_examples=FORM_EXAMPLES + 5, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(target):
        fuzzer.cases += 1
        try:
            location = _login(app.test_client(), target).headers["Location"]
        except Exception as exc:  # noqa: BLE001 - the 500 this test looks for
            fuzzer.failures.setdefault(("POST /login?next", type(exc).__name__), f"next={target!r} -> {exc!r}")
            return
        if not location.startswith(("/", "http://localhost/")) or location.startswith("//") or \
                any(c in location for c in "\r\n"):
            fuzzer.failures.setdefault(("POST /login?next", "off-site"), f"next={target!r} -> {location!r}")

    run()


def test_no_web_form_or_filter_answers_a_server_error(web_app):
    started = time.monotonic()
    app, services = web_app
    client = app.test_client()
    with pin_clock(dt.date(2026, 3, 16)):
        _login(client)
        visited, forms, crawl_errors = crawl(client, _record_pages(services), max_pages=150)
        fuzzer = Fuzzer(client)
        for error in crawl_errors:
            fuzzer.failures[(error, "crawl")] = error

        distinct: dict[tuple, Form] = {}
        for form in forms:
            if not SELF_HARM.search(form.action) and (form.method == "post" or form.fields):
                distinct.setdefault(form.shape, form)
        ordered = sorted(distinct.values(), key=lambda f: bool(LAST.search(f.action)))
        fields = 0
        for form in ordered:
            current = _fresh(client, form) or form
            fields += len({f.name for f in current.fields if f.name != "csrf_token"})
            _fuzz_form(fuzzer, current)

        lists = {}
        for url, status in visited:
            if status == 200:
                lists.setdefault(shape_of(url).split("?")[0], url.split("?")[0])
        for url in lists.values():
            _fuzz_query(fuzzer, url, LIST_KEYS)
        _fuzz_login_next(fuzzer, app)

    seconds = time.monotonic() - started
    print(f"web fuzz: {len(visited)} pages, {len(ordered)} forms, {fields} fields, {len(lists)} query targets, "
          f"{fuzzer.cases} cases, {len(fuzzer.failures)} server errors, {seconds:.0f} s")
    assert len(ordered) >= 40 and fuzzer.cases >= 500, "the crawl reached too little of the app"
    assert not fuzzer.failures, "\n".join(sorted(fuzzer.failures.values()))
