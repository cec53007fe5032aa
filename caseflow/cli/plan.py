"""``caseflow plan`` / ``reminders`` / ``notifications``: open a year's cases, show the calendar,
record closure days, send the reminders that are due and the notifications' e-mail."""

from __future__ import annotations

import datetime as dt
import sys

import click
from sqlalchemy import func, select

from caseflow.cli.base import App, fail, main, pass_app
from workflow import clock
from workflow.engine import registry


@main.group()
def plan() -> None:
    """The plan's calendar: obligations, due dates, generating a year's cases."""


@plan.command("generate")
@click.option("--year", "roc_year", type=int, required=True, help="ROC year, e.g. 115.")
@click.option("--office", "office_code", help="One office's code.")
@click.option("--all", "all_offices", is_flag=True, help="Every office (shows a progress bar).")
@pass_app
def plan_generate(app: App, roc_year: int, office_code: str | None, all_offices: bool) -> None:
    """Open the year's plan cases with their due dates; running it again creates nothing new."""
    from workflow.calendar import plan as plan_mod
    from workflow.models import Office

    if bool(office_code) == all_offices:
        fail("give exactly one of --office CODE or --all")
    registry.default().sync(app.db)
    if all_offices:
        with app.db.unit_of_work(write=False) as uow:
            total = uow.session.scalar(select(func.count()).select_from(Office)) or 0
            plan_mod.obligations(uow.session, roc_year)  # refuse a year outside the plan before the bar
        with click.progressbar(length=total, label=f"ROC {roc_year}", file=sys.stderr) as bar:
            results = plan_mod.generate(app.db, roc_year, on_office=lambda _r: bar.update(1))
    else:
        results = plan_mod.generate(app.db, roc_year, office_codes=[office_code or ""])
    for r in results:
        missing = f", no unit {', '.join(sorted(set(r.missing_units)))}" if r.missing_units else ""
        click.echo(f"{r.office_code}: {len(r.created)} created, {r.existing} already there{missing}")
    click.echo(f"ROC {roc_year}: {sum(len(r.created) for r in results)} cases created in {len(results)} offices")


@plan.command("show")
@click.option("--year", "roc_year", type=int, help="ROC year (default: this year).")
@click.option("--office", "office_code", help="Move due dates by this office's closure days.")
@pass_app
def plan_show(app: App, roc_year: int | None, office_code: str | None) -> None:
    """The obligations of the year's plan and their due dates."""
    from workflow.calendar import plan as plan_mod
    from workflow.calendar import workdays
    from workflow.models import Office

    year = roc_year or clock.current_roc_year()
    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        office_id = None
        if office_code:
            office_id = s.scalar(select(Office.id).where(Office.code == office_code))
            if office_id is None:
                fail(f"no office {office_code!r}")
        cal = workdays.for_office(s, office_id)
        for ob in plan_mod.obligations(s, year):
            click.echo(f"{ob.due_date(year, cal).isoformat()}  {ob.kind:<20} {ob.period:<3} {ob.unit_code:<12} "
                       f"{ob.title_for(year)}  → {ob.receiver}")


@plan.command("closure")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--office", "office_code", help="One office (default: every office).")
@click.option("--reason", default="停班", show_default=True)
@pass_app
def plan_closure(app: App, day: dt.datetime, office_code: str | None, reason: str) -> None:
    """Record an office closure day (停班, e.g. a typhoon day): it stops counting as a working day."""
    from workflow.models import Office, OfficeClosure

    with app.db.unit_of_work() as uow:
        s = uow.session
        office_id = None
        if office_code:
            office_id = s.scalar(select(Office.id).where(Office.code == office_code))
            if office_id is None:
                fail(f"no office {office_code!r}")
        s.add(OfficeClosure(office_id=office_id, day=day.date(), reason=reason, created_at=clock.now()))
        uow.commit()
    click.echo(f"closure recorded: {day.date().isoformat()} ({office_code or 'every office'})")


@main.group()
def reminders() -> None:
    """Deadline reminders (the daily beat task runs the same code)."""


@reminders.command("send")
@pass_app
def reminders_send(app: App) -> None:
    """Decide today's due-soon and overdue reminders, notify in the app and send the e-mails (to
    those who want each one as it comes; digests: ``caseflow notifications send``)."""
    from workflow.calendar import reminders as rem
    from workflow.notifications import mail

    registry.default().sync(app.db)
    decided = rem.decide(app.db, days_before=app.settings.remind_days_before)
    sent = mail.send_pending(app.db, mail.mailer_from_settings(app.settings),
                             links=mail.links_from_settings(app.settings))
    click.echo(f"{decided} reminders decided, {sent} e-mails sent")


@main.group()
def notifications() -> None:
    """Notifications' e-mail (beat runs the same every minute)."""


@notifications.command("send")
@pass_app
def notifications_send(app: App) -> None:
    """E-mail what is still owed to those who want each notification as it comes, then the daily
    digests that are due (from CASEFLOW_DIGEST_HOUR, once a day each)."""
    from workflow.notifications import mail

    mailer = mail.mailer_from_settings(app.settings)
    if mailer is None:
        click.echo("CASEFLOW_SMTP_HOST is not set: notifications stay in the app (0 e-mails sent)")
        return
    links = mail.links_from_settings(app.settings)
    sent = mail.send_pending(app.db, mailer, links=links)
    digests = mail.send_digests(app.db, mailer, links=links, hour=app.settings.digest_hour)
    click.echo(f"{sent} e-mails sent, {digests} digests sent")
