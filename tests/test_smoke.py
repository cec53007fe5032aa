"""Smoke: one case along the main line, draft to filed, through the operations."""

from tests.helpers import task_force_decides
from workflow.cases import approval
from workflow.models import Case


def test_main_line_to_filed(office):
    cid = office.case("training_report")
    u = office.users
    for trigger, who in [("submit", "personnel_staff"), ("approve", "personnel_chief"), ("approve", "secretariat"),
                         ("approve", "convener"), ("file_with_city_group", "liaison")]:
        if who == "convener":
            task_force_decides(office.db, cid)
        approval.fire(cid, trigger, u[who], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        c = uow.session.get(Case, cid)
        assert (c.state, c.version, c.history_seq) == ("filed", 6, 6)
