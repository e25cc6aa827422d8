"""Every sort the titles list offers reads its page from an index in order, on both databases.

A sort without its index sorts every title for each page: 0.35-0.39 s at 1,000,000 titles, against
9 ms with it (docs/benchmarks.md). The plan is read with the planner told to avoid sorting
(PostgreSQL) or as SQLite chooses it; the statement is the one the list really runs.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.services.titles import lifecycle as titles

from .titles_support import TODAY

SORT_INDEXES = {
    "due_date": "ix_titles_due_date_id",
    "issue_date": "ix_titles_issue_date_id",
    "number": "ix_titles_number_id",
    "amount": "ix_titles_amount_id",
    "open_amount": "ix_titles_open_amount_id",
}


def test_every_sort_of_the_list_has_its_index():
    assert set(SORT_INDEXES) | {"id"} == set(titles.SORTS)


def _list_statement(services, sort: str, desc: bool) -> tuple[str, object]:
    engine = services.session_factory.kw["bind"]
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        if "FROM titles" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with services.session_factory() as s:
            titles.list_titles(s, titles.TitleFilter(), today=TODAY, sort=sort, desc=desc, table_only=True)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 1, seen  # the list reads its page in one statement
    return seen[0]


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("sort", sorted(SORT_INDEXES))
def test_each_sort_reads_its_page_from_an_index_in_order(services, backend, sort, desc):
    statement, parameters = _list_statement(services, sort, desc)
    engine = services.session_factory.kw["bind"]
    with engine.connect() as conn:
        if backend == "postgresql":
            # On a small table the planner would rightly sort; without sorting it must find an index
            # that gives the order, or fall back to a sort anyway (its cost only raised).
            conn.exec_driver_sql("SET enable_sort = off")
            conn.exec_driver_sql("SET enable_incremental_sort = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert SORT_INDEXES[sort] in plan, plan
            assert "Sort" not in plan, plan
        else:
            plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            assert SORT_INDEXES[sort] in plan, plan
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
