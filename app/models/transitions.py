"""Allowed status transitions: one table per aggregate, one check, one pt-BR message.

A table maps each status (None: a row being created) to the statuses it may move to. The models'
`move_to` methods (`Title.move_to`, `Negativation.move_to`) are the only writers of a status and
call `check` first, so a forbidden change raises the same `Conflict` wherever it is attempted.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.services.core.errors import Conflict

TransitionTable = Mapping[str | None, frozenset[str]]


def check(table: TransitionTable, labels: Mapping[str, str], what: str, current: str | None, new: str) -> None:
    """Raise Conflict unless `table` allows `current` -> `new`."""
    if new not in table.get(current, frozenset()):
        before = "novo" if current is None else labels.get(current, current)
        raise Conflict(
            f"{what}: mudança de situação não permitida ({before} → {labels.get(new, new)}).",
            code="status_transition_not_allowed",
        )


def sources_of(table: TransitionTable, target: str) -> tuple[str, ...]:
    """The existing statuses that may move to `target`, in the table's order: the from-states a query
    (or a bulk UPDATE) moving rows to `target` must select, so it never strays from the table."""
    return tuple(str(status) for status, allowed in table.items() if status is not None and target in allowed)
