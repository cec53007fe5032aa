"""Workflows declared as data are validated when loaded (R2), and versioned (issue 2 §3).

Each test copies the shipped declarations (``workflow/kinds``) into a temporary folder, breaks one
thing, and expects ``load_files`` to refuse with a WorkflowDefinitionError naming the kind and the
problem. The versioning test runs a separate Registry on a database of its own, so the suite's shared
registry and database never see the changed definition.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import make_office
from workflow.cases import approval
from workflow.db import Database
from workflow.engine import registry
from workflow.engine.loader import KINDS_DIR, load_files
from workflow.errors import TransitionNotAllowed, WorkflowDefinitionError
from workflow.migrate import upgrade
from workflow.models import Case, WorkflowVersion


def copy_kinds(tmp_path: Path, *kinds: str) -> Path:
    """The shipped lines, and the given kinds (all of them when none given), in a folder of their own."""
    target = tmp_path / "kinds"
    shutil.copytree(KINDS_DIR / "lines", target / "lines")
    for path in KINDS_DIR.glob("*.toml"):
        if not kinds or path.stem in kinds:
            shutil.copy(path, target / path.name)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path.name} exactly once; update this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(path: Path, toml: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + toml, encoding="utf-8")


APPROVE_TF = 'trigger = "approve"\nsource = ["task_force_review"]\ndest = "approved"\n'
FILE = 'trigger = "file_with_city_group"\nsource = ["approved"]\ndest = "filed"\n'
RETURN_1 = ('trigger = "return_for_revision"\nsource = ["section_review"]\ndest = "returned"\nroles = ["chief"]\n'
            'conditions = ["comment_given"]')
APPROVE_1 = ('trigger = "approve"\nsource = ["section_review"]\ndest = "secretariat_review"\nroles = ["chief"]\n'
             'conditions = ["not_submitter"]')

# name: (file to edit, how, the kind named, words in the problem). "main" edits the main line with
# only training_report beside it; a kind name edits that kind's own file.
BROKEN: dict[str, tuple[str, tuple[str, str] | str, str, str]] = {
    "unknown destination": ("main", (FILE, FILE.replace('"filed"', '"fliled"')), "training_report",
                            "unknown destination state 'fliled'"),
    "unknown source": ("main", (FILE, FILE.replace('["approved"]', '["aproved"]')), "training_report",
                       "unknown source state 'aproved'"),
    "documents for an unknown state": ("training_report", ("[documents]\n", '[documents]\nlimbo = ["sign_memo"]\n'),
                                       "training_report", "documents given for unknown state 'limbo'"),
    "unreachable state": ("main", '[[states]]\nname = "archived"\nlabel = "歸檔"\n\n[[transitions]]\n'
                                  'trigger = "unarchive"\nsource = ["archived"]\ndest = "draft"\nroles = ["admin"]\n',
                          "training_report", "not reachable from 'draft': ['archived']"),
    "dead end": ("main", '[[states]]\nname = "on_hold"\nlabel = "暫停"\n\n[[transitions]]\n'
                         'trigger = "hold"\nsource = ["draft"]\ndest = "on_hold"\nroles = ["staff"]\n',
                 "training_report", "state 'on_hold' is a dead end"),
    "unknown role": ("main", (APPROVE_1, APPROVE_1.replace('["chief"]', '["chief", "janitor"]')),
                     "training_report", "unknown role 'janitor'"),
    "unknown drafter role": ("training_report", ('default_unit = "personnel"\n',
                                                 'default_unit = "personnel"\ndrafter_roles = ["staff", "intern"]\n'),
                             "training_report", "unknown role 'intern'"),
    "unknown condition": ("main", (APPROVE_1, APPROVE_1.replace('["not_submitter"]', '["not_submitter", "full_moon"]')),
                          "training_report", "unknown condition 'full_moon'"),
    "return without a comment": ("main", (RETURN_1, RETURN_1.replace('["comment_given"]', "[]")),
                                 "training_report", "returning for revision must require a comment"),
    "duplicate trigger and source": ("main", '[[transitions]]\ntrigger = "approve"\nsource = ["section_review"]\n'
                                             'dest = "returned"\nroles = ["chief"]\n',
                                     "training_report", "transition 'approve' from 'section_review': declared twice"),
    "trigger named like a state": ("main", '[[transitions]]\ntrigger = "filed"\nsource = ["approved"]\n'
                                           'dest = "filed"\nroles = ["liaison"]\n',
                                   "training_report", "trigger has the name of a state"),
    "unknown document": ("training_report", ('section_review = ["sign_memo", "training_results"]',
                                             'section_review = ["sign_memo", "press_release"]'),
                         "training_report", "unknown document 'press_release'"),
    "unknown background task": ("web_posting", None, "web_posting", "unknown task 'launch_rocket'"),  # edits posting
    "final state with a way out": ("main", '[[transitions]]\ntrigger = "reopen"\nsource = ["acknowledged"]\n'
                                           'dest = "draft"\nroles = ["admin"]\n',
                                   "training_report", "final state 'acknowledged' has outgoing transitions"),
    "amendment line broken": ("amendment", ('dest = "council_pending"', 'dest = "council"'), "plan_amendment",
                              "unknown destination state 'council'"),
    "state without a name": ("main", '[[states]]\nlabel = "無名"\n', "training_report", "state without a name"),
}
_LINE_OF = {"main": "training_report", "amendment": "plan_amendment", "posting": "web_posting"}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_declaration_is_refused_naming_kind_and_problem(tmp_path: Path, name: str) -> None:
    where, how, kind, words = BROKEN[name]
    folder = copy_kinds(tmp_path, kind)
    assert set(load_files(folder)) == {kind}  # the unbroken copy loads
    if name == "unknown background task":
        path, how = folder / "lines" / "posting.toml", ('tasks = ["publish_posting"]', 'tasks = ["launch_rocket"]')
    elif where in _LINE_OF:
        path = folder / "lines" / f"{where}.toml"
    else:
        path = folder / f"{where}.toml"
    if isinstance(how, tuple):
        edit(path, *how)
    else:
        assert how is not None
        append(path, how)
    with pytest.raises(WorkflowDefinitionError) as err:
        load_files(folder)
    assert err.value.kind == kind
    assert words in err.value.problem, err.value.problem
    assert kind in str(err.value) and words in str(err.value)  # the English sentence
    assert kind in err.value.message  # the zh-TW sentence names the kind too


def test_the_shipped_declarations_load() -> None:
    files = load_files()
    assert set(files) == set(registry.default().files)
    assert all(d.initial == "draft" for d in files.values())


def test_a_kind_file_must_be_named_after_its_kind(tmp_path: Path) -> None:
    folder = copy_kinds(tmp_path, "promo_material")
    (folder / "promo_material.toml").rename(folder / "leaflets.toml")
    with pytest.raises(WorkflowDefinitionError) as err:
        load_files(folder)
    assert err.value.kind == "promo_material" and "promo_material.toml" in err.value.problem


def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = copy_kinds(tmp_path, "training_report")
    append(folder / "lines" / "main.toml", "[[transitions]\n")
    with pytest.raises(WorkflowDefinitionError) as err:
        load_files(folder)
    assert err.value.kind == "training_report" and "main.toml is not valid TOML" in err.value.problem


# -- versions ----------------------------------------------------------------------------------
FAST_TRACK = ('[[transitions]]\ntrigger = "fast_track"\nsource = ["section_review"]\ndest = "task_force_review"\n'
              'roles = ["chief"]\nconditions = ["not_submitter"]\n')


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'versions.db'}")
    upgrade(database)
    yield database
    database.dispose()


def test_a_changed_definition_is_a_new_version_and_old_cases_keep_theirs(
        tmp_path: Path, own_database: Database, _password_hash: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = own_database
    original = load_files(copy_kinds(tmp_path / "v1"))
    changed_dir = copy_kinds(tmp_path / "v2")
    append(changed_dir / "lines" / "main.toml", FAST_TRACK)  # v2: chiefs may send a case straight to the task force
    changed = load_files(changed_dir)

    v1 = registry.Registry(files=original)
    monkeypatch.setattr(registry, "_default", v1)
    assert set(v1.sync(db).values()) == {1}
    office = make_office(db, _password_hash)
    u = office.users
    old = office.case("training_report")
    approval.submit(old, u["personnel_staff"], db=db)

    v2 = registry.Registry(files=changed)
    monkeypatch.setattr(registry, "_default", v2)
    versions = v2.sync(db)
    main_line = {k for k, d in changed.items() if any(t.trigger == "fast_track" for t in d.transitions)}
    assert main_line and "training_report" in main_line and "web_posting" not in main_line
    assert versions == {k: 2 if k in main_line else 1 for k in changed}

    new = office.case("training_report", roc_year=114)
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        assert {c.id: c.workflow_version for c in s.scalars(select(Case).where(Case.id.in_([old, new])))} == {
            old: 1, new: 2}
        assert s.scalars(select(WorkflowVersion.version).where(WorkflowVersion.kind == "training_report")
                         .order_by(WorkflowVersion.version)).all() == [1, 2]

    # The case opened on version 1 still runs on version 1: no fast track for it ...
    with pytest.raises(TransitionNotAllowed) as err:
        approval.fire(old, "fast_track", u["personnel_chief"], db=db)
    assert err.value.allowed == ["approve", "return_for_revision", "take_back"]
    assert approval.approve(old, u["personnel_chief"], db=db).to_state == "secretariat_review"
    # ... while a case opened now runs on version 2.
    approval.submit(new, u["personnel_staff"], db=db)
    assert approval.fire(new, "fast_track", u["personnel_chief"], db=db).to_state == "task_force_review"

    # Version 1 read back from the database is the definition it was.
    assert v2.get(db, "training_report", 1).fingerprint() == original["training_report"].fingerprint()
    # Loading the same files again (another process, a restart) adds no version; going back to the
    # first definition makes version 1 current again rather than inventing a third.
    assert registry.Registry(files=load_files(changed_dir)).sync(db) == versions
    assert registry.Registry(files=original).sync(db)["training_report"] == 1
