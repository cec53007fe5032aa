"""``caseflow users``: the people of every office and the roles they hold today."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from caseflow.cli.base import App, dump, main, pass_app
from workflow.models import RoleAssignment, User


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
