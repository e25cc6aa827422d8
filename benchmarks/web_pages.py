"""The daily pages at a million titles, product against bare, under the production recipe.

    .venv/bin/python benchmarks/web_pages.py                        # PostgreSQL, 1M titles (built once)
    .venv/bin/python benchmarks/web_pages.py --reuse --duration 15  # the same database, built before
    .venv/bin/python benchmarks/web_pages.py --database sqlite --titles 200000

Builds the portfolio of benchmarks/portfolio.py (100k clients, 1M titles by default; PostgreSQL
database `bench_pages` at 127.0.0.1, or a SQLite file), adds credit accounts, an admin user, the
credit-analysis switch on and the panel's open totals. Then it serves, at the same time:

- the PRODUCT as the README's production recipe does: `gunicorn -w 4 'app:create_app()'` with
  CREDITDESK_ENV=production, logged in once (the session cookie is reused by every request);
- the BARE pages (benchmarks/bare_pages.py): each page's rows from one hand-written SQL query,
  rendered by a minimal Jinja template in a minimal WSGI app, same gunicorn and worker count;
- the LOGIN FLOOR (benchmarks/floor_app.py; `--no-floor` leaves it out): the product's app, built
  as the recipe does, serving the bare page's HTML at `/_floor/<page>` behind `login_required`,
  logged in with its own cookie. It pays Flask, the product's hooks, the session and the user's
  row, not the page's own queries and templates: information, not a target.

wrk drives each page of each server in turn (never two at once) at 20 connections for
`--duration` seconds after a short warm-up, and a Lua `done` hook reports p50/p95/p99. Printed per
page: requests/s and latency percentiles of each; the last line is JSON. Targets: rps_ratio ≥ 0.5
and p95_ratio ≤ 2 for each list and detail page, dashboard_vs_titles_p95 ≤ 2.

Other processes on the machine share the CPU with the servers, the database and wrk: the script
prints the load average before and after, and figures taken under load are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.models import Party, Title, User  # noqa: E402
from app.services.core.audit import Actor  # noqa: E402
from app.services.core.clock import today_br  # noqa: E402
from app.services.core.crypto import SecretBox  # noqa: E402
from benchmarks import portfolio  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
SQLITE_PATH = Path(tempfile.gettempdir()) / "bench_pages.sqlite3"
ENCRYPTION_KEY = "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o="
USER, PASSWORD = "bench", "Bench-pages-2026!long"
# Flask-Login's "strong" session protection ties the session to the browser's address and User-Agent:
# wrk sends none of its own, so every request sends this one, the login's included. Without it each
# measured request was a 302 to the login page, fast and meaningless.
USER_AGENT = "credit-desk-benchmark/1"
SEARCH = "silva"
LIST_PAGES = ("titles", "titles_overdue", "clients", "clients_search", "negativations", "credit_accounts")
DETAIL_PAGES = ("title_detail", "client_detail")
FLOOR_PREFIX = "/_floor"  # the floor's route (benchmarks/floor_app.py) + the bare page's path
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"errors": %d, "non2xx": %d, "bytes": %d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, summary.bytes))
end
"""


def log(msg: str) -> None:
    print(msg, flush=True)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# --------------------------------------------------------------------------- database


def database_url(kind: str, name: str) -> str:
    return f"sqlite:///{SQLITE_PATH}" if kind == "sqlite" else PG_URL.format(name=name)


def existing_titles(url: str) -> int | None:
    """Titles of a finished earlier build (the bench user is its last step); None when there is none."""
    if url.startswith("sqlite") and not SQLITE_PATH.exists():
        return None
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            if not conn.execute(select(User.id).where(User.username == USER)).first():
                return None
            return conn.execute(select(func.count()).select_from(Title)).scalar()
    except Exception:  # noqa: BLE001 - no database, no tables: build
        return None
    finally:
        if "engine" in locals():
            engine.dispose()


def recreate(kind: str, name: str) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build(url: str, titles: int) -> None:
    from app.db import transaction
    from app.migrations.runner import alembic_config
    from app.services.settings import switches
    from app.services.settings import users as user_service
    from app.services.titles import open_totals

    engine = make_engine(url)
    box = SecretBox(ENCRYPTION_KEY)
    t0 = time.perf_counter()
    pf = portfolio.build(engine, box, clients=max(titles // 10, 1), titles=titles, send_clients=1000,
                         today=today_br(), log=log)
    log(f"  portfolio: {pf.titles + pf.send_titles:,} titles, {pf.negativations:,} negativations "
        f"in {time.perf_counter() - t0:.0f}s")
    money = "500000" if url.startswith("sqlite") else "5000.00"
    with engine.begin() as conn:
        # A credit account for one client in four: the credit accounts list has limits to show.
        conn.execute(text(f"INSERT INTO credit_accounts (branch_id, party_id, credit_limit, tolerance_pct, "
                          f"created_at, updated_at) SELECT branch_id, id, {money}, 0, created_at, created_at "
                          f"FROM parties WHERE id % 4 = 0"))
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(engine, expire_on_commit=False)
    with transaction(factory) as s:
        rows = open_totals.rebuild(s)
        switches.set_credit_analysis(s, Actor.system("benchmark"), True)
        user_service.create_user(s, Actor.system("benchmark"), username=USER, name="Benchmark", password=PASSWORD,
                                 role="admin")
    log(f"  open totals: {rows:,} rows; credit switch on; user {USER}")
    portfolio.analyze(engine)
    from alembic import command

    command.stamp(alembic_config(url), "head")  # built by create_all: the schema of the last revision
    engine.dispose()


def samples(url: str) -> dict:
    """Ids for the detail pages: an overdue title with its client."""
    engine = make_engine(url)
    with engine.connect() as conn:
        tid, pid = conn.execute(select(Title.id, Title.party_id).where(Title.status == "partial")
                                .order_by(Title.id).limit(1)).one()
        assert conn.execute(select(Party.id).where(Party.id == pid)).scalar() == pid
    engine.dispose()
    return {"title_id": tid, "party_id": pid}


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_spec: str, env: dict, workers: int, port: int, logfile: Path) -> subprocess.Popen:
    # Both servers take the production recipe's settings (app/gunicorn_conf.py): same server, same tuning.
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:app.gunicorn_conf",
           "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=logfile.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
            return proc
        except requests.RequestException:
            if proc.poll() is not None:
                raise SystemExit(f"{app_spec} did not start: {logfile.read_text()[-2000:]}") from None
            time.sleep(0.3)
    stop(proc)  # never leave a server behind
    raise SystemExit(f"{app_spec} did not answer in 60 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def login(base: str) -> str:
    """The product's session cookie after one login (the CSRF token read from the form)."""
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    page = http.get(f"{base}/login", timeout=30).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"username": USER, "password": PASSWORD, **({"csrf_token": match.group(1)} if match else {})}
    resp = http.post(f"{base}/login", data=data, allow_redirects=False, timeout=30)
    if resp.status_code != 302:
        raise SystemExit(f"login failed: HTTP {resp.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


# --------------------------------------------------------------------------- measuring


def wrk(url: str, cookie: str | None, duration: int, connections: int, script: Path) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s", "-s", str(script),
           "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK "))
    raw = json.loads(line[4:])
    return {"rps": raw["requests"] / (raw["duration_us"] / 1e6), "p50_ms": raw["p50_us"] / 1000,
            "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "requests": raw["requests"],
            "errors": raw["errors"] + raw["non2xx"], "bytes_per_response": raw["bytes"] / max(raw["requests"], 1)}


def check(url: str, cookie: str | None, must: str) -> int:
    """The page answers 200 with its content (not the login page nor a redirect) before it is measured;
    returns the response's size, which every measured response must match (see `same_page`)."""
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    resp = requests.get(url, headers=headers, allow_redirects=False, timeout=120)
    if resp.status_code != 200 or must not in resp.text:
        raise SystemExit(f"{url}: HTTP {resp.status_code}, {must!r} {'missing' if resp.ok else ''}")
    return len(resp.content)


def same_page(url: str, figures: dict, body_bytes: int) -> None:
    """wrk counts a 302 as a success: a run whose responses are much smaller than the checked page
    measured something else (a redirect to the login page, an error page) and is refused."""
    if figures["bytes_per_response"] < body_bytes * 0.9:
        raise SystemExit(f"{url}: wrk read {figures['bytes_per_response']:.0f} bytes per response, the page has "
                         f"{body_bytes}: the measured responses were not the page (a redirect?)")


def page_result(figures: dict) -> dict:
    """A page's JSON entry: product against bare (the targets), and the floor's figures when it ran."""
    p, b = figures["product"], figures["bare"]
    out = {"product_rps": round(p["rps"], 1), "bare_rps": round(b["rps"], 1),
           "rps_ratio": round(p["rps"] / b["rps"], 2) if b["rps"] else None,
           "product_p95_ms": round(p["p95_ms"], 1), "bare_p95_ms": round(b["p95_ms"], 1),
           "p95_ratio": round(p["p95_ms"] / b["p95_ms"], 2) if b["p95_ms"] else None}
    if "floor" in figures:
        f = figures["floor"]
        out.update({"floor_rps": round(f["rps"], 1), "floor_p95_ms": round(f["p95_ms"], 1),
                    "floor_rps_ratio": round(f["rps"] / b["rps"], 2) if b["rps"] else None,
                    "product_vs_floor_rps": round(p["rps"] / f["rps"], 2) if f["rps"] else None})
    return out


def page_line(name: str, figures: dict, result: dict) -> str:
    p, b, f = figures["product"], figures["bare"], figures.get("floor")
    line = (f"{name:16s} product {p['rps']:7.1f} rps  p50 {p['p50_ms']:7.1f}  p95 {p['p95_ms']:7.1f}  "
            f"p99 {p['p99_ms']:7.1f} ms | bare {b['rps']:7.1f} rps  p50 {b['p50_ms']:6.1f}  "
            f"p95 {b['p95_ms']:6.1f}  p99 {b['p99_ms']:6.1f} ms | rps x{result['rps_ratio']}  "
            f"p95 x{result['p95_ratio']}")
    if f:
        line += (f" | floor {f['rps']:7.1f} rps  p95 {f['p95_ms']:6.1f} ms  "
                 f"floor/bare x{result['floor_rps_ratio']}  product/floor x{result['product_vs_floor_rps']}")
    errors = [str(figures[side]["errors"]) for side in figures]
    return line + (f"  errors {'/'.join(errors)}" if any(e != "0" for e in errors) else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--titles", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=10, help="seconds of wrk per page and server")
    ap.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--db-name", default="bench_pages", help="PostgreSQL database (dropped and created)")
    ap.add_argument("--reuse", action="store_true", help="reuse the database of an earlier run when it has them")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--pages", default="", help="comma-separated subset of the pages")
    ap.add_argument("--build-only", action="store_true", help="build (or check) the database and stop")
    ap.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                    help="also serve and measure the login floor (benchmarks/floor_app.py); information, not a target")
    args = ap.parse_args()

    url = database_url(args.database, args.db_name)
    log(f"load average at start: {load()}")
    have = existing_titles(url) if args.reuse else None
    if have is None or have < args.titles:
        log(f"building {args.titles:,} titles on {args.database} ...")
        recreate(args.database, args.db_name)
        build(url, args.titles)
        have = existing_titles(url)
    else:
        log(f"reusing {have:,} titles on {args.database}")
    if args.build_only:
        return
    ids = samples(url)
    today = today_br()
    instance = Path(tempfile.mkdtemp(prefix="bench_pages_"))
    product_env = {"CREDITDESK_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": "bench-secret-key-0123456789",
                   "ENCRYPTION_KEY": ENCRYPTION_KEY, "SESSION_COOKIE_SECURE": "0",
                   "CREDITDESK_INSTANCE": str(instance)}
    bare_env = {"BARE_DATABASE_URL": url, "BARE_TODAY": today.isoformat()}
    servers = [("product", "app:create_app()", product_env), ("bare", "benchmarks.bare_pages:app", bare_env)]
    if args.floor:
        servers.append(("floor", "benchmarks.floor_app:app", {**product_env, "BARE_TODAY": today.isoformat()}))
    script = instance / "report.lua"
    script.write_text(LUA)
    pages = {
        "titles": ("/titulos/", "/titles", "Vencimento"),
        "titles_overdue": ("/titulos/?overdue=sim", "/titles_overdue", "Vencimento"),
        "clients": ("/crm/clientes/", "/clients", "Cidade"),
        "clients_search": (f"/crm/clientes/?q={SEARCH}", f"/clients_search?q={SEARCH}", "Silva"),
        "negativations": ("/negativacoes/", "/negativations", "Protocolo"),
        "credit_accounts": ("/credito/contas", "/credit_accounts", "Limite"),
        "title_detail": (f"/titulos/{ids['title_id']}", f"/title_detail?id={ids['title_id']}", "Em aberto"),
        "client_detail": (f"/crm/cadastros/{ids['party_id']}/dados", f"/client_detail?id={ids['party_id']}",
                          "CPF"),
        "dashboard": ("/cobranca/painel", "/dashboard", "180+"),
    }
    if args.pages:
        pages = {k: v for k, v in pages.items() if k in args.pages.split(",")}
    results: dict = {}
    ports: dict[str, int] = {}
    procs: list[subprocess.Popen] = []
    try:
        for side, app_spec, env in servers:
            ports[side] = free_port()
            procs.append(serve(app_spec, env, args.workers, ports[side], instance / f"{side}.log"))
        # The product and the floor each log in once, on their own server, with their own cookie.
        cookies = {side: None if side == "bare" else login(f"http://127.0.0.1:{port}") for side, port in ports.items()}
        for name, (product_path, bare_path, must) in pages.items():
            paths = {"product": product_path, "bare": bare_path, "floor": FLOOR_PREFIX + bare_path}
            figures = {}
            for side, port in ports.items():  # product, bare, then the floor
                target = f"http://127.0.0.1:{port}{paths[side]}"
                size = check(target, cookies[side], must)
                wrk(target, cookies[side], 2, args.connections, script)  # warm-up: every worker has served it
                figures[side] = wrk(target, cookies[side], args.duration, args.connections, script)
                same_page(target, figures[side], size)
            results[name] = page_result(figures)
            log(page_line(name, figures, results[name]) + f"  (load {load()})")
    finally:
        for proc in procs:
            stop(proc)
    ratio = None
    if "dashboard" in results and "titles" in results:
        ratio = round(results["dashboard"]["product_p95_ms"] / results["titles"]["product_p95_ms"], 2)
    checked = [n for n in results if n in LIST_PAGES + DETAIL_PAGES]
    misses = [n for n in checked if (results[n]["rps_ratio"] or 0) < 0.5 or (results[n]["p95_ratio"] or 99) > 2]
    log(f"targets (rps_ratio >= 0.5, p95_ratio <= 2; dashboard/titles p95 <= 2): "
        f"{'met' if not misses and (ratio is None or ratio <= 2) else 'missed: ' + ', '.join(misses)}"
        f"{'' if ratio is None or ratio <= 2 else ' dashboard_vs_titles_p95'}")
    log(f"load average at end: {load()}")
    print(json.dumps({"database": args.database, "titles": have, "concurrency": args.connections,
                      "workers": args.workers, "duration_s": args.duration, "load_average": load(),
                      "pages": results, "dashboard_vs_titles_p95": ratio}), flush=True)


if __name__ == "__main__":
    main()
