"""The bare pages of benchmarks/web_pages.py: each page's rows from ONE hand-written SQL query,
rendered by a minimal Jinja template in a minimal WSGI app. No Flask, no ORM, no session, no login.

It is the floor the product is compared with: same database, same rows, same server (gunicorn, same
worker count). Served as `gunicorn 'benchmarks.bare_pages:app'` with BARE_DATABASE_URL (a
SQLAlchemy URL, as the product's) and BARE_TODAY (ISO date); the ids of the detail pages come in
the query string (`/title?id=…`).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from decimal import Decimal
from urllib.parse import parse_qs

from jinja2 import Environment

LAYOUT = """<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><table><thead><tr>{% for c in cols %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for r in rows %}<tr>{% for v in r %}<td>{{ v|show }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>"""


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        text = f"{value:,.2f}"
        return "R$ " + text.replace(",", "X").replace(".", ",").replace("X", ".")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


ENV = Environment(autoescape=True)
ENV.filters["show"] = _show
TEMPLATE = ENV.from_string(LAYOUT)

# Money is NUMERIC on PostgreSQL and integer cents on SQLite (app/models/base.py `Money`): :m is
# replaced by the expression that reads a money column as the pages show it.
COLLECTIBLE = "('open', 'partial')"
QUERIES = {
    "titles": ("Títulos", ["Número", "Cliente", "Filial", "Emissão", "Vencimento", "Valor", "Recebido", "Em aberto",
                           "Status", "Negativado"], """
        SELECT t.number, p.name, b.name, t.issue_date, t.due_date, {m:t.amount}, {m:t.amount_received},
               {m:t.open_amount}, t.status,
               EXISTS (SELECT 1 FROM negativation_titles nt WHERE nt.title_id = t.id AND nt.live)
        FROM (SELECT * FROM titles ORDER BY due_date, id LIMIT 50) t
        JOIN parties p ON p.id = t.party_id JOIN branches b ON b.id = t.branch_id
        ORDER BY t.due_date, t.id"""),
    "titles_overdue": ("Títulos vencidos", ["Número", "Cliente", "Filial", "Emissão", "Vencimento", "Valor",
                                            "Recebido", "Em aberto", "Status", "Negativado"], """
        SELECT t.number, p.name, b.name, t.issue_date, t.due_date, {m:t.amount}, {m:t.amount_received},
               {m:t.open_amount}, t.status,
               EXISTS (SELECT 1 FROM negativation_titles nt WHERE nt.title_id = t.id AND nt.live)
        FROM (SELECT * FROM titles WHERE status IN """ + COLLECTIBLE + """ AND open_amount > 0
              AND due_date < :today ORDER BY due_date, id LIMIT 50) t
        JOIN parties p ON p.id = t.party_id JOIN branches b ON b.id = t.branch_id
        ORDER BY t.due_date, t.id"""),
    "clients": ("Clientes", ["Nome", "CPF/CNPJ", "E-mail", "Cidade", "UF", "Filial", "Status"], """
        SELECT p.name, p.document, p.email, p.city, p.state, b.name, p.status
        FROM (SELECT * FROM parties WHERE stage = 'client' ORDER BY id DESC LIMIT 50) p
        JOIN branches b ON b.id = p.branch_id ORDER BY p.id DESC"""),
    "clients_search": ("Clientes", ["Nome", "CPF/CNPJ", "E-mail", "Cidade", "UF", "Filial", "Status"], """
        SELECT p.name, p.document, p.email, p.city, p.state, b.name, p.status
        FROM (SELECT * FROM parties WHERE stage = 'client' AND search_name LIKE :name ORDER BY id DESC LIMIT 50) p
        JOIN branches b ON b.id = p.branch_id ORDER BY p.id DESC"""),
    "negativations": ("Negativações", ["Nº", "Cliente", "Filial", "Status", "Origem", "Protocolo", "Valor",
                                       "Solicitante", "Prazo"], """
        SELECT n.id, p.name, b.name, n.status, n.origin, n.protocol, {m:n.total_amount}, n.requested_by,
               n.removal_deadline
        FROM (SELECT * FROM negativations ORDER BY id DESC LIMIT 50) n
        JOIN parties p ON p.id = n.party_id JOIN branches b ON b.id = n.branch_id
        ORDER BY n.id DESC"""),
    "credit_accounts": ("Contas de crédito", ["Nome", "CPF/CNPJ", "Status", "Filial", "Limite", "Utilizado"], """
        SELECT p.name, p.document, p.status, b.name, {m:coalesce(a.credit_limit, 0)},
               {m:(SELECT coalesce(sum(t.open_amount), 0) FROM titles t WHERE t.party_id = p.id
                   AND t.origin = 'credit_purchase' AND t.status IN """ + COLLECTIBLE + """)}
        FROM (SELECT * FROM parties WHERE stage = 'client' ORDER BY name, id LIMIT 50) p
        JOIN branches b ON b.id = p.branch_id LEFT JOIN credit_accounts a ON a.party_id = p.id
        ORDER BY p.name, p.id"""),
    "title_detail": ("Título", ["Número", "Cliente", "Filial", "Vencimento", "Valor", "Em aberto", "Status",
                                "Pagamento", "Valor pago"], """
        SELECT t.number, p.name, b.name, t.due_date, {m:t.amount}, {m:t.open_amount}, t.status, pay.paid_on,
               {m:pay.amount}
        FROM titles t JOIN parties p ON p.id = t.party_id JOIN branches b ON b.id = t.branch_id
        LEFT JOIN payments pay ON pay.title_id = t.id WHERE t.id = :id ORDER BY pay.id"""),
    "client_detail": ("Cliente", ["Nome", "CPF/CNPJ", "E-mail", "Telefone", "Endereço", "Cidade", "Filial",
                                  "Status"], """
        SELECT p.name, p.document, p.email, p.phone, p.street || ', ' || p.number, p.city, b.name, p.status
        FROM parties p JOIN branches b ON b.id = p.branch_id WHERE p.id = :id"""),
    "dashboard": ("Painel de cobrança", ["Figura", "Chave", "Quantidade", "Valor"], """
        SELECT 'atraso', CASE WHEN due_date >= :d30 THEN '1-30' WHEN due_date >= :d60 THEN '31-60'
                              WHEN due_date >= :d90 THEN '61-90' WHEN due_date >= :d180 THEN '91-180'
                              ELSE '180+' END AS k,
               sum(open_count), {m:sum(open_amount)}
        FROM title_open_totals WHERE due_date < :today GROUP BY k
        UNION ALL
        SELECT 'negativações', status, count(*), {m:sum(total_amount)} FROM negativations GROUP BY status"""),
}


def _money_sql(expr: str, sqlite: bool) -> str:
    return f"(({expr}) / 100.0)" if sqlite else f"({expr})"


def _expand(sql: str, sqlite: bool) -> str:
    out, i = [], 0
    while (start := sql.find("{m:", i)) >= 0:
        depth, j = 1, start + 3
        while depth:  # the expression may itself hold braces-free parentheses only
            if sql[j] == "{":
                depth += 1
            elif sql[j] == "}":
                depth -= 1
            j += 1
        out.append(sql[i:start])
        out.append(_money_sql(sql[start + 3:j - 1], sqlite))
        i = j
    out.append(sql[i:])
    return "".join(out)


class _Db:
    """One connection per worker process, opened at its first request (after gunicorn forked).

    The list queries take the page's 50 rows in a subquery, then join their client and branch: the
    plan walks the ordering index and stops at 50 instead of joining every row first."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.conn = None

    def rows(self, sql: str, params: dict) -> list[tuple]:
        if self.conn is None:
            if self.sqlite:
                self.conn = sqlite3.connect(self.url.split("sqlite:///", 1)[1], check_same_thread=False)
            else:
                import psycopg

                self.conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"),
                                            autocommit=True)
        if self.sqlite:
            named = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items()}
            rows = self.conn.execute(sql, named).fetchall()
            # SQLite gives money as float after the division: back to Decimal with two places.
            return [tuple(Decimal(f"{v:.2f}") if isinstance(v, float) else v for v in r) for r in rows]
        pg_sql = sql
        for key in sorted(params, key=len, reverse=True):
            pg_sql = pg_sql.replace(":" + key, f"%({key})s")
        with self.conn.cursor() as cur:
            cur.execute(pg_sql, params)
            return cur.fetchall()


def make_app(url: str, today: dt.date):
    db = _Db(url)
    compiled = {name: (title, cols, _expand(sql, db.sqlite)) for name, (title, cols, sql) in QUERIES.items()}
    days = {"today": today, "d30": today - dt.timedelta(days=30), "d60": today - dt.timedelta(days=60),
            "d90": today - dt.timedelta(days=90), "d180": today - dt.timedelta(days=180)}

    def app(environ, start_response):
        name = environ.get("PATH_INFO", "/").strip("/")
        if name not in compiled:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        params: dict = {"today": today}
        if name == "dashboard":
            params = dict(days)
        elif name in ("title_detail", "client_detail"):
            params["id"] = int(query.get("id", ["0"])[0])
        elif name == "clients_search":
            params["name"] = "% " + query.get("q", [""])[0].lower() + "%"
        title, cols, sql = compiled[name]
        body = TEMPLATE.render(title=title, cols=cols, rows=db.rows(sql, params)).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def _from_env():
    url = os.environ.get("BARE_DATABASE_URL")
    if not url:
        return None
    return make_app(url, dt.date.fromisoformat(os.environ["BARE_TODAY"]))


app = _from_env()
