"""The one place where a DomainError becomes what a person sees: a pt-BR flash, then either the
form again (with the field errors and what they typed) or a redirect to the page they came from.

A view declares what its errors show with `@on_error(...)`, right under its route:

    @bp.route("/<int:branch_id>", methods=["GET", "POST"])
    @on_error(form=_branch_form)            # re-render: _branch_form(data=..., errors=..., branch_id=...)
    def edit(branch_id): ...

    @bp.route("/<int:title_id>/pagamentos", methods=["POST"])
    @on_error(redirect="titles.detail")     # url_for("titles.detail", title_id=...)
    def pay(title_id): ...

The handler rolls the request back first, so a failed request commits nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from app.request_scope import rollback_request
from app.services.core.errors import DomainError, NotFound, ValidationError

from .common import safe_next

T = TypeVar("T")
FormRenderer = Callable[..., Any]  # (*, data, errors, **view_args) -> a response


@dataclass(frozen=True)
class ErrorPage:
    # An endpoint (given the view's arguments it takes) or a function of the view's arguments -> URL.
    redirect: str | Callable[..., str] | None = None
    form: FormRenderer | None = None
    # Which errors show the form again; the others redirect (e.g. only field errors re-render).
    form_errors: type[DomainError] = DomainError
    status: int = 200
    # What the user typed, as the form's template reads it (default: the posted fields).
    posted: Callable[[], Mapping[str, Any]] | None = None


def on_error(*, redirect: str | Callable[..., str] | None = None, form: FormRenderer | None = None,
             form_errors: type[DomainError] = DomainError, status: int = 200,
             posted: Callable[[], Mapping[str, Any]] | None = None):
    """Declare what a DomainError raised by this view shows (see the module docstring)."""
    page = ErrorPage(redirect, form, form_errors, status, posted)

    def decorator(view):
        view.error_page = page  # functools.wraps copies it to every decorator above
        return view

    return decorator


def _current_page() -> ErrorPage:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "error_page", None) or ErrorPage()


def _url_for_view_args(endpoint: str, view_args: Mapping[str, Any]) -> str:
    """url_for(endpoint) with the current view's arguments that the endpoint's rule takes."""
    accepted: set[str] = set()
    for rule in current_app.url_map.iter_rules(endpoint):
        accepted |= set(rule.arguments)
    return url_for(endpoint, **{k: v for k, v in view_args.items() if k in accepted})


def _target(page: ErrorPage) -> str:
    view_args = request.view_args or {}
    if callable(page.redirect):
        return page.redirect(**view_args)
    if page.redirect:
        return _url_for_view_args(page.redirect, view_args)
    # Nothing declared: back to the page the form was posted from; a failed GET goes home (no loop).
    home = url_for("home.index")
    return safe_next(request.referrer, home) if request.method == "POST" else home


def show_domain_error(exc: DomainError):
    """The web's DomainError handler (registered on the app; the API has its own JSON one)."""
    rollback_request()
    flash(exc.message, "danger")
    page = _current_page()
    if page.form is not None and request.method == "POST" and isinstance(exc, page.form_errors):
        errors = dict(exc.field_errors) if isinstance(exc, ValidationError) else {}
        data = page.posted() if page.posted else request.form
        try:
            return page.form(data=data, errors=errors, **(request.view_args or {})), page.status
        except HTTPException as http:  # e.g. the form's record vanished meanwhile: its 404 page
            return current_app.handle_http_exception(http)
    return redirect(_target(page))


def redirect_with_message(url: str, message: str, category: str = "danger"):
    """For an error that has a page of its own (e.g. a failed consultation's report)."""
    rollback_request()
    flash(message, category)
    return redirect(url)


def optional_step(step: Callable[[], T], default: T) -> T:
    """A part of a page that may fail without failing the page (e.g. asking the bureau for its
    restriction reasons): its DomainError shows as a flash and the page goes on with `default`.
    Only for steps that write nothing in the request's session (nothing is rolled back here)."""
    try:
        return step()
    except DomainError as exc:
        flash(exc.message, "danger")
        return default


def or_404(lookup: Callable[[], T]) -> T:
    """A service lookup whose NotFound is the page's own 404 (e.g. a contact in the URL)."""
    try:
        return lookup()
    except NotFound:
        abort(404)


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(DomainError, show_domain_error)
