"""The header every printed page carries (`templates/_print_header.html`, included by base.html and
shown only in @media print): the branch of what is on the page, its CNPJ, and when and by whom it
was printed, in Brasília time.

A page says whose it is by setting `print_branch` (`{% set print_branch = title.branch %}`); a list
without one prints the branch it is filtered by (`?branch_id=`), else the installation's first
active branch (the one registered first, normally the head office).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.services.core.clock import now_br
from app.services.core.ids import as_id

from .common import request_branches


@dataclass(frozen=True)
class PrintHeader:
    branch_name: str | None
    branch_cnpj: str | None
    printed_at: str  # dd/mm/aaaa hh:mm, Brasília
    printed_by: str | None


def _listed_branch():
    """The filtered branch, else the first active one registered: from the request's branch rows
    (`request_branches`), which the list's own filter already read."""
    if "print_default_branch" not in g:
        try:
            branches = request_branches()
            branch_id = as_id(request.args.get("branch_id"))
            chosen = [b for b in branches if b.id == branch_id] if branch_id else []
            active = sorted((b for b in branches if b.active), key=lambda b: b.id)
            g.print_default_branch = (chosen or active or [None])[0]
        except SQLAlchemyError:
            # The error page of a failed request (its session aborted, or the database gone) must
            # still render: it prints without a branch.
            g.print_default_branch = None
    return g.print_default_branch


def print_header(branch=None) -> PrintHeader:  # a Branch, or a row of request_branches()
    who = current_user.name if current_user.is_authenticated else None
    if branch is None and current_user.is_authenticated:
        branch = _listed_branch()
    return PrintHeader(branch_name=branch.name if branch else None, branch_cnpj=branch.cnpj if branch else None,
                       printed_at=now_br().strftime("%d/%m/%Y %H:%M"), printed_by=who)
