"""The `creditdesk` command: set-up, users and tokens, the simulator, the scheduler, the demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.db import transaction
from app.services.core.audit import Actor
from app.services.core.permissions import ALL_ROLES


def _create_app():
    from app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """credit-desk: bureau de crédito e cobrança para provedores e distribuidores."""


def services():
    return current_app.extensions["credit_desk"]


@main.command("init-db")
@with_appcontext
def init_db():
    """Apply the Alembic migrations to DATABASE_URL."""
    from app.migrations.runner import upgrade

    url = current_app.config["DATABASE_URL"]
    upgrade(url)
    click.echo(f"Banco de dados migrado: {_safe_url(url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command("create-user")
@click.option("--username", prompt="Usuário")
@click.option("--name", default="")
@click.option("--role", type=click.Choice(ALL_ROLES), prompt="Perfil")
@click.option("--email", default=None)
@click.password_option("--password", prompt="Senha")
@with_appcontext
def create_user(username, name, role, email, password):
    """Create a user (password hashed; at least 12 characters and hard to guess, see docs/security.md)."""
    from app.services.core.errors import DomainError
    from app.services.settings import users

    try:
        with transaction(services().session_factory) as s:
            user = users.create_user(s, Actor.system("cli"), username=username, name=name or username,
                                     password=password, role=role, email=email)
    except DomainError as exc:
        raise click.ClickException(_domain_message(exc)) from exc
    click.echo(f"Usuário {user.username} criado com perfil {user.role}.")


def _domain_message(exc) -> str:
    fields = getattr(exc, "field_errors", {}) or {}
    return exc.message + "".join(f"\n  {k}: {v}" for k, v in fields.items())


@main.command("create-token")
@click.option("--username", required=True)
@click.option("--name", default="cli")
@click.option("--scope", "scopes", multiple=True,
              help="Escopo do token (repita a opção; ex.: --scope commerce:inbound --scope commerce:orders). "
                   "Sem --scope: todos os escopos (o token faz o que o perfil do usuário permite).")
@click.option("--expires-days", type=int, default=None, help="Validade em dias (padrão: sem validade).")
@with_appcontext
def create_token(username, name, scopes, expires_days):
    """Create an API token for a user and print it once."""
    from sqlalchemy import select

    from app.models import User
    from app.services.core.errors import DomainError
    from app.services.settings import api_tokens

    try:
        with transaction(services().session_factory) as s:
            user = s.scalar(select(User).where(User.username == username.lower()))
            if user is None:
                raise click.ClickException(f"Usuário {username} não encontrado.")
            _, clear = api_tokens.create_api_token(s, Actor.system("cli"), user, name,
                                                   scopes=list(scopes) if scopes else None,
                                                   expires_at=api_tokens.expiry_from_days(expires_days))
    except DomainError as exc:
        raise click.ClickException(_domain_message(exc)) from exc
    click.echo(clear)


@main.command("seed-demo")
@with_appcontext
def seed_demo():
    """Create demo branches, integrations, users and data (idempotent)."""
    from app.demo import seed

    seed(services(), echo=click.echo)


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int)
@click.option("--threads", default=8, type=int)
def serve(host, port, threads):
    """Serve the web app with waitress (the demo; production uses gunicorn, see README)."""
    from waitress import serve as waitress_serve

    from app import create_app

    app = create_app()
    click.echo(f"credit-desk em http://{host}:{port}")
    waitress_serve(app, host=host, port=port, threads=threads, ident="credit-desk")


@main.command("simulator")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5050, type=int)
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def simulator(host, port, extra):
    """Run the Crédito na Medida simulator alone (see `python -m integrations.simulator --help`)."""
    argv = [sys.executable, "-m", "integrations.simulator", "--host", host, "--port", str(port), *extra]
    os.execv(sys.executable, argv)  # noqa: S606 - becomes the simulator process; the arguments are ours


@main.command("scheduler")
@click.option("--list", "list_only", is_flag=True, help="Only list the jobs and exit.")
@with_appcontext
def scheduler_cmd(list_only):
    """Run the job scheduler (ONE process per installation)."""
    import logging

    from scheduler.registry import JOBS
    from scheduler.runner import load_jobs, run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    load_jobs()
    if list_only:
        for spec in JOBS.values():
            click.echo(f"{spec.id}: {spec.trigger} {spec.trigger_args} — {spec.description}")
        return
    click.echo(f"Agendador iniciado com {len(JOBS)} tarefas.")
    run_forever(services())


# run-collections exit codes: scripts and cron can tell a finished run from one that did nothing.
EXIT_DONE, EXIT_CRASH, EXIT_BUSY, EXIT_FAILED_INCLUSIONS, EXIT_NOT_COMPLETED = 0, 1, 3, 4, 5


def collections_exit_code(summaries) -> int:
    """The worst outcome over the branches run: crash > not completed > busy > failed inclusions > done."""
    statuses = {s.status for s in summaries}
    if "failed" in statuses:
        return EXIT_CRASH
    if statuses & {"halted", "skipped", "interrupted"}:
        return EXIT_NOT_COMPLETED
    if "busy" in statuses:
        return EXIT_BUSY
    if any(s.counts.get("errors", 0) for s in summaries):
        return EXIT_FAILED_INCLUSIONS
    return EXIT_DONE


@main.command("run-collections")
@click.option("--branch", "branch_id", type=int, default=None, help="Only this branch (default: every branch on).")
@click.option("--dry-run", is_flag=True, help="Show what would be included/removed/skipped; send nothing.")
@with_appcontext
def run_collections_cmd(branch_id, dry_run):
    """Run the collections routine now ("Atualizar Cobranças"), with a progress bar.

    \b
    Exit codes:
      0  the run completed (every eligible title sent or queued for resend)
      1  crash, or nothing could be run (e.g. no branch has the routine on)
      3  another run holds the branch (nothing was done; a dead run never counts)
      4  completed, but the bureau refused some inclusions (status Erro)
      5  not completed: the bureau refused the credentials or was down (the
         circuit breaker stopped the sends; unsent titles are untouched), or
         the branch's settings block the routine
    """
    from app.services.collections.liveness import reap
    from app.services.collections.routine import run_collections
    from app.services.core.errors import DomainError

    for dead in reap(services(), branch_id):
        click.echo(dead.message, err=True)  # a killed run does not block this one
    bar_state = {"bar": None}

    def progress(done: int, total: int) -> None:
        if bar_state["bar"] is None:
            bar_state["bar"] = click.progressbar(length=max(total, 1), label="Negativando", file=sys.stderr)
            bar_state["bar"].__enter__()
        bar_state["bar"].update(done - bar_state["bar"].pos)

    try:
        summaries = run_collections(services(), Actor.system("cli"), branch_id=branch_id, dry_run=dry_run,
                                    trigger="cli", progress=progress)
    except DomainError as exc:
        raise click.ClickException(_domain_message(exc)) from exc
    finally:
        if bar_state["bar"] is not None:
            bar_state["bar"].__exit__(None, None, None)
    for summary in summaries:
        for line in summary.lines():
            click.echo(line)
    sys.exit(collections_exit_code(summaries))


@main.command("title-totals")
@click.option("--rebuild", is_flag=True, help="Recount from every title instead of compacting the ledger.")
@with_appcontext
def title_totals_cmd(rebuild):
    """Compact (or rebuild from the titles) the open totals the collections panel reads."""
    from app.services.titles.open_totals import compact
    from app.services.titles.open_totals import rebuild as rebuild_totals

    with transaction(services().session_factory) as s:
        if rebuild:
            click.echo(f"Totais em aberto recontados: {rebuild_totals(s)} linha(s).")
        else:
            before, after = compact(s)
            click.echo(f"Totais em aberto compactados: {before} -> {after} linha(s).")


@main.command("reconcile")
@click.option("--branch", "branch_id", type=int, default=None,
              help="Only this branch (default: every active branch with a bureau integration).")
@with_appcontext
def reconcile_cmd(branch_id):
    """Reconcile with the bureau now, with a progress bar; an interrupted run is resumed."""
    from app.services.reconciliation.runs import reconcilable_branches, run_branch

    with services().session_factory() as s:
        ids = [branch_id] if branch_id else reconcilable_branches(s)
    results = []
    for b in ids:
        with click.progressbar(length=1, label=f"Conciliando filial {b}", file=sys.stderr) as bar:
            def progress(done: int, total: int, bar=bar) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            results.append(run_branch(services(), Actor.system("cli"), b, trigger="cli", progress=progress))
        for line in results[-1].lines():
            click.echo(line)
    if any(r.status == "failed" for r in results):
        sys.exit(1)


@main.command("demo")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int)
@click.option("--simulator-port", default=lambda: int(os.environ.get("SIMULATOR_PORT", "5050")), type=int)
@with_appcontext
def demo(port, simulator_port):
    """Migrate, seed, and run simulator + scheduler + web app on 127.0.0.1 until Ctrl-C."""
    from app.demo import seed
    from app.migrations.runner import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    # The seed points the demo integrations at this run's simulator port.
    current_app.config["SIMULATOR_URL"] = f"http://127.0.0.1:{simulator_port}"
    from app.demo import credit as credit_demo  # the seed points the commerce platform at its simulator
    from app.demo import events as events_demo
    from app.demo import reconciliation as reconciliation_demo

    current_app.config["COMMERCE_SIMULATOR_URL"] = credit_demo.platform_base_url()
    seed(services(), echo=click.echo)
    instance = current_app.config["INSTANCE_DIR"]
    env = dict(os.environ, PORT=str(port), SIMULATOR_URL=f"http://127.0.0.1:{simulator_port}")
    exe = [sys.executable, "-m", "app.cli"]
    commands = {
        "simulador": [sys.executable, "-m", "integrations.simulator", "--host", "127.0.0.1", "--port",
                      str(simulator_port), "--notice-seconds", "45",
                      "--storage", os.path.join(instance, "simulator.sqlite3")],
        "agendador": [*exe, "scheduler"],
        "web": [*exe, "serve", "--host", "127.0.0.1", "--port", str(port)],
        "plataforma": credit_demo.platform_command(port, instance),
        "eventos": events_demo.receiver_command(),  # prints the signed events
    }
    procs: dict[str, subprocess.Popen] = {}
    stop_requested: list[int] = []

    def _request_stop(signum, _frame):
        # Only a flag: an exception raised here could land inside Popen (leaving a child nobody
        # stops) or inside _stop_all when a second signal comes, and print a traceback.
        stop_requested.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _request_stop)
    try:
        for name, cmd in commands.items():
            if stop_requested:
                break
            # Each child in its own process group: the terminal's Ctrl-C reaches only this command,
            # which stops the children in order with SIGTERM, instead of interrupting them in the
            # middle of their imports (a KeyboardInterrupt traceback from each).
            procs[name] = subprocess.Popen(cmd, env=env, process_group=0)
            click.echo(f"[demo] {name} iniciado (pid {procs[name].pid})")
        # One divergence of each kind, made through the running simulator's /_sim controls (demo data).
        if not stop_requested:
            reconciliation_demo.after_start(services(), f"http://127.0.0.1:{simulator_port}", echo=click.echo)
        if not stop_requested:
            click.echo(f"[demo] Abra http://127.0.0.1:{port}/ — Ctrl-C encerra tudo.")
        while not stop_requested and all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        if stop_requested:
            click.echo("\n[demo] encerrando…")
        else:
            dead = [n for n, p in procs.items() if p.poll() is not None]
            click.echo(f"[demo] processo encerrado inesperadamente: {', '.join(dead)}; parando os demais.",
                       err=True)
    finally:
        _stop_all(procs)


def _stop_all(procs: dict[str, subprocess.Popen]) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for name, p in procs.items():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        click.echo(f"[demo] {name} parado.")


@main.command("import-customers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--branch", "branch_id", type=int, required=True, help="Id da filial que recebe os clientes.")
@click.option("--batch-size", default=2000, show_default=True, help="Clientes por lote gravado.")
@with_appcontext
def import_customers_cmd(path, branch_id, batch_size):
    """Import customers from the commerce platform's XML (docs/commerce-xml.md), streamed: any size."""
    from app.services.commerce.import_file import import_customer_file
    from app.services.core.errors import DomainError

    shown: list = []

    def on_item(item):
        if item.result == "refused" and len(shown) < 50:
            shown.append(item)

    try:
        with services().session_factory() as s, click.progressbar(
                length=os.path.getsize(path), label="Importando clientes") as bar:
            summary = import_customer_file(s, Actor.system("cli"), path, branch_id, batch_size=batch_size,
                                           on_item=on_item, on_progress=bar.update)
    except DomainError as exc:
        message = _domain_message(exc) + "\n(os lotes anteriores ao erro foram gravados)"
        raise click.ClickException(message) from exc
    click.echo(f"{summary.created} criados, {summary.updated} atualizados, {summary.refused} recusados.")
    for item in shown:
        click.echo(f"  cliente #{item.index} ({item.external_id or 'sem id'}): {item.reason}")
    if summary.refused > len(shown):
        click.echo(f"  … e mais {summary.refused - len(shown)} recusados.")


@main.command("anonymise-consultations")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Data de referência (AAAA-MM-DD); padrão: hoje em São Paulo.")
@with_appcontext
def anonymise_consultations_cmd(today):
    """Anonymise consultation reports past each branch's retention period (LGPD, domain rule 15)."""
    from app.services.consultations.consult import anonymise_expired

    with transaction(services().session_factory) as s:
        count = anonymise_expired(s, today.date() if today else None, Actor.system("cli"))
    click.echo(f"{count} consulta(s) anonimizada(s).")


def register_cli(app: Flask) -> None:
    """Expose the same commands under `flask` too (the group is also the console script)."""
    for name, cmd in main.commands.items():
        app.cli.add_command(cmd, name)


if __name__ == "__main__":
    main()
