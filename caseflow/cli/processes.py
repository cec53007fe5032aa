"""``caseflow init``, ``serve``, ``worker``, ``beat`` (and the hidden ``now``): set up the database,
with the demo office if asked, and run the processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from caseflow.cli.base import App, fail, main, pass_app
from workflow import clock
from workflow.db import Database
from workflow.engine import registry
from workflow.models import RoleAssignment, User


@main.command()
@click.option("--demo", is_flag=True, help="Also create the demo district office with cases of every kind.")
@pass_app
def init(app: App, demo: bool) -> None:
    """Create or upgrade the database schema (and optionally the demo office)."""
    from workflow import demo as demo_mod
    from workflow.migrate import upgrade
    from workflow.models import Office

    app.settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(app.db)
    versions = registry.default().sync(app.db)
    click.echo(f"database ready: {app.db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"workflows: {len(versions)} kinds registered")
    if demo:
        with app.db.unit_of_work(write=False) as uow:
            exists = uow.session.scalar(select(Office.id).where(Office.code == demo_mod.OFFICE_CODE))
        if exists:
            click.echo("demo office already present")
        else:
            demo_mod.seed(app.db)
            click.echo("demo office created")
        print_logins(app.db)


def print_logins(db: Database) -> None:
    from workflow.demo import DEMO_PASSWORD

    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(User.login, User.display_name, User.title, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .order_by(User.id, RoleAssignment.id)
        ).all()
    by_user: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for login, name, title, role in rows:
        by_user.setdefault(login, []).append(role)
        names[login] = f"{name}（{title}）" if title else name
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for login, roles in by_user.items():
        click.echo(f"  {login:<20} {', '.join(roles):<28} {names[login]}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo/--no-demo", default=False, help="Create the demo office first if the database is empty.")
@pass_app
def serve(app: App, host: str, port: int, demo: bool) -> None:
    """Run the web app (the embedded default: SQLite, background work in-process)."""
    from web import create_app
    from workflow.migrate import upgrade

    upgrade(app.db)
    if demo:
        from workflow import demo as demo_mod
        from workflow.models import Office

        with app.db.unit_of_work(write=False) as uow:
            empty = uow.session.scalar(select(func.count(Office.id))) == 0
        if empty:
            demo_mod.seed(app.db)
            print_logins(app.db)
    # E-mail links point at this server unless CASEFLOW_PUBLIC_BASE_URL says where people reach it.
    flask_app = create_app({"BASE_URL": app.settings.base_url or f"http://{host}:{port}"})
    click.echo(f"caseflow is running at http://{host}:{port}/  (Ctrl+C to stop)")
    flask_app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


@main.command()
@click.option("--concurrency", default=1, show_default=True, type=int)
@click.option("--queues", default="celery,conversions", show_default=True,
              help="Comma-separated queues: `celery` (renders, publications, sweeps) and `conversions` "
                   "(LibreOffice ODT/PDF). Run one worker per queue to keep conversions from delaying .docx.")
@click.option("--loglevel", default="INFO", show_default=True)
@pass_app
def worker(app: App, concurrency: int, queues: str, loglevel: str) -> None:
    """Run a Celery worker (needs REDIS_URL): renders documents from the outbox and converts them."""
    from tasks.app import QUEUES

    if not app.settings.redis_url:
        fail("REDIS_URL is not set; the embedded default renders documents inside `caseflow serve`")
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in chosen if q not in QUEUES]
    if unknown or not chosen:
        fail(f"unknown queue {', '.join(unknown) or '(none)'}; choose from {', '.join(QUEUES)}")
    env = dict(os.environ)
    if app.settings.worker_metrics_port:
        # The pool's counters reach the worker's /metrics through a directory of its own (a fresh
        # one per worker: pids repeat across containers and restarts); those of dead workers go.
        env["PROMETHEUS_MULTIPROC_DIR"] = str(worker_metrics_dir(app.settings.instance_path))
    os.execvpe(sys.executable, [sys.executable, "-m", "celery", "-A", "tasks.app:celery_app", "worker",
                                f"--concurrency={concurrency}", "-O", "fair", f"--loglevel={loglevel}",
                                "--include", "tasks.calendar", f"--queues={','.join(chosen)}",
                                "--without-gossip", "--without-mingle"], env)


def worker_metrics_dir(instance: Path) -> Path:
    """``<PROMETHEUS_MULTIPROC_DIR or instance/metrics>/worker-<pid>-...``, new and owned by this
    process (which becomes the Celery worker: exec keeps the pid); stale siblings are removed."""
    from workflow import pidfiles
    from workflow.config import metrics_dir

    base = metrics_dir() or instance / "metrics"
    base.mkdir(parents=True, exist_ok=True)
    pidfiles.sweep("worker-", base)
    return pidfiles.make("worker-", base)


@main.command()
@click.option("--loglevel", default="INFO", show_default=True)
@pass_app
def beat(app: App, loglevel: str) -> None:
    """Run Celery beat (needs REDIS_URL): the outbox sweep and, later, the plan's schedules."""
    if not app.settings.redis_url:
        fail("REDIS_URL is not set; the embedded default sweeps the outbox inside `caseflow serve`")
    schedule = app.settings.instance_path / "celerybeat-schedule"
    app.settings.instance_path.mkdir(parents=True, exist_ok=True)
    os.execvp(sys.executable, [sys.executable, "-m", "celery", "-A", "tasks.app:celery_app", "beat",
                               f"--loglevel={loglevel}", f"--schedule={schedule}"])


@main.command("now", hidden=True)
def show_now() -> None:
    click.echo(f"{clock.now().isoformat()} (ROC {clock.current_roc_year()})")
