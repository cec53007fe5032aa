"""``caseflow users`` / ``offices``: the people of every office and the roles they hold today; the
offices themselves, and Taoyuan's 13 district offices seeded in one command."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import func, select

from caseflow.cli.base import App, dump, fail, main, pass_app
from documents.context import doc_no_prefix
from workflow.models import Case, Office, RoleAssignment, Unit, User
from workflow.people import taoyuan


@main.group()
def users() -> None:
    """People and their roles."""


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def users_list(app: App, as_json: bool) -> None:
    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        rows = s.execute(select(User).order_by(User.office_id, User.id)).scalars().all()
        roles: dict[int, list[str]] = {}
        for ra in s.scalars(select(RoleAssignment).order_by(RoleAssignment.id)):
            roles.setdefault(ra.user_id, []).append(ra.role)
        out: list[dict[str, Any]] = [{"id": u.id, "login": u.login, "name": u.display_name, "office_id": u.office_id,
                "unit_id": u.unit_id, "title": u.title, "active": u.active, "roles": roles.get(u.id, [])}
               for u in rows]
    if as_json:
        dump(out)
        return
    for u in out:
        click.echo(f"{u['id']:>4}  {u['login']:<20} {u['name']:<8} {','.join(u['roles'])}")


@main.group()
def offices() -> None:
    """The district offices (tenants)."""


@offices.command("seed")
@click.option("--taoyuan", "taoyuan_13", is_flag=True, help="Taoyuan City's 13 district offices.")
@pass_app
def offices_seed(app: App, taoyuan_13: bool) -> None:
    """Create the offices and their units that are missing; running it twice creates nothing."""
    if not taoyuan_13:
        fail("say which offices: --taoyuan (Taoyuan City's 13 district offices)")
    with app.db.unit_of_work() as uow:
        seeded = taoyuan.seed(uow.session)
        uow.commit()
    created = [x.code for x in seeded if x.created]
    units = sum(x.units_added for x in seeded)
    click.echo(f"{len(seeded) - 1} district offices and the city group: {len(created)} created, "
               f"{len(seeded) - len(created)} already there; {units} units added")


@offices.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def offices_list(app: App, as_json: bool) -> None:
    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        units = dict(s.execute(select(Unit.office_id, func.count()).group_by(Unit.office_id)).all())
        cases = dict(s.execute(select(Case.office_id, func.count()).group_by(Case.office_id)).all())
        out = [{"id": o.id, "code": o.code, "name": o.name, "name_en": o.name_en, "address": o.address,
                "phone": o.phone, "doc_no_prefix": doc_no_prefix(o.name), "workflow_variant": o.workflow_variant,
                "kind": o.kind,
                "units": units.get(o.id, 0), "cases": cases.get(o.id, 0)}
               for o in s.scalars(select(Office).order_by(Office.id))]
    if as_json:
        dump(out)
        return
    for o in out:
        variant = f"  variant {o['workflow_variant']}" if o["workflow_variant"] else ""
        variant += "  (the city group)" if o["kind"] == "city" else ""
        click.echo(f"{o['id']:>4}  {o['code']:<10} {o['name']:<12} {o['doc_no_prefix']}  "
                   f"{o['units']} units, {o['cases']} cases{variant}")
