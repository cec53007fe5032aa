"""``caseflow documents``: list a case's documents, render one again, and upload an office's own
template."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from caseflow.cli.base import CASE_ID, DOCUMENT_ID, App, fail, main, office_id, pass_app
from workflow import clock
from workflow.models import User


@main.group()
def documents() -> None:
    """Generated documents."""


@documents.command("list")
@click.argument("case_id", type=CASE_ID)
@pass_app
def documents_list(app: App, case_id: int) -> None:
    from workflow.models import Document

    with app.db.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)))
    if not rows:
        fail(f"case {case_id} has no documents (or does not exist)")
    for d in rows:
        formats = ",".join(f for f, k in (("docx", d.storage_key), ("odt", d.odt_key), ("pdf", d.pdf_key)) if k)
        click.echo(f"{d.id:>6}  {d.name:<20} event #{d.cause_seq:<4} {d.status:<9} {formats:<13} "
                   f"{(d.sha256 or '')[:12]}  {d.last_error or d.conversion_error or ''}")


@documents.command("rerender")
@click.argument("document_id", type=DOCUMENT_ID)
@pass_app
def documents_rerender(app: App, document_id: int) -> None:
    """Render a document again from its recorded inputs and compare the text with the stored file."""
    from documents.service import document_store, rerender
    from documents.text import docx_text
    from workflow.models import Document

    with app.db.unit_of_work(write=False) as uow:
        doc = uow.session.get(Document, document_id)
        if doc is None or doc.storage_key is None:
            fail(f"no rendered document {document_id} (see `caseflow documents list CASE_ID`)")
        key = doc.storage_key
    try:
        again = rerender(app.db, document_id)
    except LookupError as exc:
        fail(str(exc))
    same = docx_text(again) == docx_text(document_store().get(key))
    click.echo(f"document {document_id}: text {'identical' if same else 'DIFFERS'} when rendered again")
    if not same:
        sys.exit(1)


@documents.command("convert-missing")
@click.option("--office", "office_code", help="Only this office's documents (default: every office).")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True,
              help="At most this many documents, newest first.")
@click.option("--now", "in_process", is_flag=True,
              help="Convert here and now (LibreOffice on this machine) instead of leaving it to the workers.")
@pass_app
def documents_convert_missing(app: App, office_code: str | None, limit: int, in_process: bool) -> None:
    """ODT and PDF for every ready document still without them (made before conversions existed,
    or whose conversion failed). Queued for the workers' conversions queue (beat runs this daily);
    running it again queues nothing twice."""
    from documents import service

    office = office_id(app.db, office_code) if office_code else None
    ids = service.queue_missing_conversions(app.db, office_id=office, limit=limit)
    if not in_process:
        click.echo(f"{len(ids)} document(s) queued for ODT and PDF; a worker converts them "
                   "(`caseflow worker --queues conversions`, or the embedded worker of `caseflow serve`)")
        return
    failed = 0
    for outbox_id in ids:
        doc_id = service.process_conversion(app.db, outbox_id).document_id
        with app.db.unit_of_work(write=False) as uow:
            from workflow.models import Document

            doc = uow.session.get(Document, doc_id)
            problem = doc.conversion_error if doc is not None else "gone"
        if problem:
            failed += 1
            click.echo(f"document {doc_id}: {problem}", err=True)
    click.echo(f"{len(ids) - failed} of {len(ids)} document(s) converted to ODT and PDF")
    if failed:
        sys.exit(1)


@documents.command("template-upload")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--office", "office_code", required=True, help="The office whose template it becomes.")
@click.option("--as", "login", required=True, help="Login of an administrator of that office.")
@pass_app
def documents_template_upload(app: App, name: str, file: Path, office_code: str, login: str) -> None:
    """Validate a replacement .docx template for document NAME and make it the office's template in force."""
    from documents import templates_admin
    from documents.render import TemplateProblem
    from workflow.models import Office
    from workflow.people import permissions
    from workflow.roles import Role

    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        office_id = s.scalar(select(Office.id).where(Office.code == office_code))
        if office_id is None:
            fail(f"no office {office_code!r}")
        user = s.scalar(select(User).where(User.login == login, User.office_id == office_id))
        if user is None:
            fail(f"no user {login!r} in office {office_code!r} (see `caseflow users list`)")
        caps = permissions.capacities(s, user.id, office_id, clock.today())
        if not any(c.role == Role.ADMIN for c in caps):
            fail(f"{login} does not hold the admin role in office {office_code!r}")
        user_id = user.id
    try:
        stored = templates_admin.upload(app.db, office_id, name, file.read_bytes(), user_id)
    except TemplateProblem as exc:
        fail(f"template refused: {exc.message_en} ({exc.message})")
    click.echo(f"{name}: version {stored.version} in force for {office_code} (sha256 {stored.sha256[:12]})")
