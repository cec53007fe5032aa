"""The `caseflow` command, run as a user runs it: a subprocess on a fresh SQLite file (the embedded
default: CASEFLOW_INSTANCE set, no DATABASE_URL), with the demo office from `caseflow init --demo`.

Bad input (unknown case, user, trigger, kind or state; a return without a comment; a person without
the role) prints exactly one line on stderr, starting with ``caseflow:``, and exits 2; never a
traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.mail_helpers import SmtpInbox, body_of
from workflow.engine import registry

CASEFLOW = str(Path(sys.executable).with_name("caseflow"))
Completed = subprocess.CompletedProcess[str]


@dataclass
class Demo:
    instance: Path
    env: dict[str, str]
    users: list[dict[str, Any]] = field(default_factory=list)  # `users list --json`, read once

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CASEFLOW, *args], env=self.env, cwd=self.instance, capture_output=True, text=True,
                              timeout=120)

    def json(self, *args: str) -> Any:
        res = self.run(*args, "--json")
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    def chief_login(self, case: dict[str, Any]) -> str:
        """A login holding the chief role for the case's unit."""
        return next(u["login"] for u in self.users if "chief" in u["roles"] and u["unit_id"] == case["unit_id"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    instance = tmp_path_factory.mktemp("instance")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CASEFLOW_INSTANCE"] = str(instance)
    d = Demo(instance, env)
    res = d.run("init", "--demo")
    assert res.returncode == 0, res.stderr
    assert "demo office created" in res.stdout
    assert (instance / "caseflow.db").exists()  # the embedded default: a SQLite file in the instance folder
    d.users = d.json("users", "list")
    return d


@pytest.fixture(scope="module")
def in_review(demo: Demo) -> list[dict[str, Any]]:
    """The demo's cases waiting for a section chief, oldest id first (two are needed below)."""
    found = demo.json("cases", "list", "--state", "section_review")
    assert len(found) >= 2, found
    return [demo.json("case", "show", str(c["id"])) for c in found]


def test_cases_list(demo: Demo) -> None:
    everything = demo.json("cases", "list")
    assert {c["kind"] for c in everything} == set(registry.default().files)  # cases of every kind
    assert {"draft", "section_review", "returned", "filed", "withdrawn"} <= {c["state"] for c in everything}
    assert not [c["title"] for c in everything if "年度年度" in c["title"]]
    only = demo.json("cases", "list", "--kind", "training_report", "--state", "draft")
    assert only and all((c["kind"], c["state"]) == ("training_report", "draft") for c in only)
    assert {c["id"] for c in only} < {c["id"] for c in everything}


def test_case_show(demo: Demo, in_review: list[dict[str, Any]]) -> None:
    case = in_review[0]
    assert case["state"] == "section_review"
    assert case["allowed_triggers"] == ["approve", "return_for_revision", "take_back"]
    history = case["history"]
    assert [h["seq"] for h in history] == list(range(1, len(history) + 1))
    assert history[0]["event"] == "created"
    assert history[-1]["trigger"] == "submit" and history[-1]["to"] == "section_review"
    assert case["version"] == len(history)
    assert case["fields"]  # the demo's cases are filled in


def test_case_fire(demo: Demo, in_review: list[dict[str, Any]]) -> None:
    case = in_review[0]
    cid, chief = str(case["id"]), demo.chief_login(case)
    res = demo.run("case", "fire", cid, "approve", "--as", chief, "--expected-version", str(case["version"]))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"case {cid}: section_review -> secretariat_review (version {case['version'] + 1})"
    after = demo.json("case", "show", cid)
    assert (after["state"], after["version"]) == ("secretariat_review", case["version"] + 1)
    names = {u["login"]: u["name"] for u in demo.users}
    assert (after["history"][-1]["trigger"], after["history"][-1]["actor"]) == ("approve", names[chief])

    back = demo.run("case", "fire", cid, "return_for_revision", "--as", "secretariat", "--comment", "請補附件")
    assert back.returncode == 0, back.stderr
    shown = demo.json("case", "show", cid)
    assert (shown["state"], shown["revision_count"], shown["history"][-1]["comment"]) == ("returned", 1, "請補附件")


def test_workflow_show_marks_the_current_state(demo: Demo) -> None:
    case = next(c for c in demo.json("cases", "list") if c["state"] not in ("draft", "section_review", "filed"))
    kind, state = case["kind"], case["state"]
    out = demo.instance / "diagram.mmd"
    res = demo.run("workflow", "show", kind, "--case", str(case["id"]), "-o", str(out))
    assert res.returncode == 0, res.stderr
    marked = [line for line in res.stdout.splitlines() if "<== current" in line]
    assert len(marked) == 1 and marked[0].split()[0] == state
    diagram = out.read_text(encoding="utf-8")
    assert "stateDiagram-v2" in diagram
    active = [line.split()[1] for line in diagram.splitlines()
              if line.strip().startswith("Class ") and line.strip().endswith(" s_active")]
    assert active == [state]
    assert "[*] --> draft" in diagram  # the start arrow still marks where every case begins
    assert "section_review --> secretariat_review: approve" in diagram

    plain = demo.instance / "plain.mmd"
    res = demo.run("workflow", "show", "web_posting", "-o", str(plain))
    assert res.returncode == 0, res.stderr
    text = plain.read_text(encoding="utf-8")
    assert not [line for line in text.splitlines() if line.strip().endswith(" s_active") and "Class " in line]
    assert "publishing --> publish_failed: mark_publish_failed" in text


def test_audit_verify_passes_on_the_demo(demo: Demo) -> None:
    res = demo.run("audit", "verify")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok: ")


# -- bad input --------------------------------------------------------------------------------
# (name, arguments, words the one line must contain). "{case}" is a demo case in section review,
# "{chief}" its unit's chief, "{other_chief}" another unit's chief. (Each run is a process start,
# about a second here, so one of each kind of mistake.)
BAD_INPUT: list[tuple[str, list[str], list[str]]] = [
    ("unknown case (show)", ["case", "show", "999999"], ["999999"]),
    ("case id not a number", ["case", "show", "abc"], ["case id must be a number", "'abc'", "caseflow cases list"]),
    ("document id not a number", ["documents", "rerender", "第3份"], ["document id must be a number", "第3份"]),
    ("unknown case (fire)", ["case", "fire", "999999", "approve", "--as", "{chief}"], ["999999"]),
    ("unknown case (history)", ["case", "history", "999999", "-o", "history.csv"], ["999999"]),
    ("unknown user", ["case", "fire", "{case}", "approve", "--as", "nobody.here"], ["nobody.here"]),
    ("unknown trigger", ["case", "fire", "{case}", "frobnicate", "--as", "{chief}"], ["frobnicate", "approve"]),
    ("unknown kind (diagram)", ["workflow", "show", "no_such_kind"], ["no_such_kind", "training_report"]),
    ("unknown state", ["cases", "list", "--state", "limbo"], ["limbo", "section_review"]),
    ("return without comment", ["case", "fire", "{case}", "return_for_revision", "--as", "{chief}"], ["comment"]),
    ("permission denied", ["case", "fire", "{case}", "approve", "--as", "{other_chief}"], ["role"]),
]


@pytest.fixture(scope="module")
def bad_runs(demo: Demo, in_review: list[dict[str, Any]]) -> dict[str, tuple[Completed, list[str]]]:
    """Every bad command, run side by side (each is its own process): results by name."""
    case = in_review[-1]
    chief = demo.chief_login(case)
    other_chief = next(u["login"] for u in demo.users if "chief" in u["roles"] and u["unit_id"] != case["unit_id"])
    fill = {"{case}": str(case["id"]), "{chief}": chief, "{other_chief}": other_chief}
    commands = {name: [fill.get(a, a) for a in args] for name, args, _words in BAD_INPUT}
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(commands, pool.map(lambda args: demo.run(*args), commands.values()), strict=True))
    after = demo.json("case", "show", str(case["id"]))
    assert (after["state"], after["version"]) == (case["state"], case["version"]), "bad input changed the case"
    return {name: (done[name], words) for name, _args, words in BAD_INPUT}


@pytest.mark.parametrize("name", [name for name, _args, _words in BAD_INPUT])
def test_bad_input_is_one_clear_line_and_exit_2(bad_runs: dict[str, Any], name: str) -> None:
    res, words = bad_runs[name]
    lines = res.stderr.splitlines()
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("caseflow: "), res.stderr
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    assert res.stdout == ""


def test_training_import_all_or_nothing_compliance_and_export(demo: Demo, tmp_path: Path) -> None:
    """The personnel office's CSV: a bad row imports nothing (exit 2, a line per error); fixed, it
    imports (one summary line); compliance says who is short; the export reads back the same."""
    year = demo.json("compliance", "--office", "demo", "--year", "115")
    assert set(year) == {"task_force", "liaison", "training", "outreach", "budget"}
    assert year["task_force"] == {"members": 11, "women": 4, "men": 7, "min_per_sex": 4, "target_per_sex": 5,
                                  "rule_met": True, "target_met": False}
    assert year["liaison"]["rank_ok"] is True
    by_name = {p["name"]: p for p in year["training"]}
    assert by_name["林雅婷"]["met"] and not by_name["張家豪"]["met"]
    assert by_name["劉淑惠"]["ge_staff"] and by_name["劉淑惠"]["missing"] == [
        "性別平等業務相關人員全年 10 小時，尚缺 2 小時"]
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,課程名稱,時數,上課方式,上課日期\n張家豪,CEDAW 實務,1,實體,115.09.31\n"
                   "無此人,課,1,實體,115.09.01\n", encoding="utf-8")
    res = demo.run("registers", "import", "training", str(bad), "--office", "demo")
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert lines[0] == "caseflow: 第 2 列「上課日期」：沒有「115.09.31」這一天；請檢查月份和日期"
    assert "第 3 列「姓名」" in lines[1] and "nothing imported (2 error(s))" in lines[2]
    good = tmp_path / "good.csv"
    good.write_text("姓名,課程名稱,時數,上課方式,上課日期,課程代碼\n張家豪,CEDAW 實務,1,實體,115.09.30,410\n"
                    "張家豪,性別影響評估,1,線上,115.10.01,\n", encoding="cp950")
    res = demo.run("registers", "import", "training", str(good), "--office", "demo")
    assert (res.returncode, res.stdout.strip()) == (0, "已匯入 2 筆培力紀錄（1 人）")
    after = {p["name"]: p for p in demo.json("compliance", "--office", "demo", "--year", "115")["training"]}
    assert after["張家豪"]["met"] and after["張家豪"]["gm_hours"] == 3
    out = tmp_path / "year.csv"
    res = demo.run("registers", "export", "training", "--office", "demo", "--year", "115", "--format", "csv",
                   "-o", str(out))
    assert res.returncode == 0 and "12 records written" in res.stdout
    text = out.read_text("utf-8-sig")
    assert text.splitlines()[0] == "姓名,員工編號,單位,課程名稱,課程代碼,課程類別,時數,上課方式,上課日期"
    assert "張家豪,,社會課,CEDAW 實務,410,CEDAW,1,實體,115.09.30" in text


def test_case_history_for_an_auditor(demo: Demo, in_review: list[dict[str, Any]], tmp_path: Path) -> None:
    """`caseflow case history` writes every event with the chain check, and says the chain is intact."""
    case = demo.json("case", "show", str(in_review[0]["id"]))  # as it is now (other tests act on it)
    out = tmp_path / "history.csv"
    res = demo.run("case", "history", str(case["id"]), "--format", "csv", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"{len(case['history'])} events written to {out}; chain: intact"
    rows = out.read_text("utf-8-sig").splitlines()
    assert rows[0].startswith("序號,時間（臺北）,事件,動作,處理人,代理,狀態變化,意見,雜湊值（SHA-256）")
    assert len(rows) == len(case["history"]) + 2 and rows[-1].startswith("驗證,,歷程雜湊鏈驗證通過")


def test_offices_seed_and_workflow_migrate(demo: Demo) -> None:
    """`offices seed --taoyuan` twice creates the 13 offices once; `workflow migrate --dry-run`
    lists what would move and moves nothing; without it the cases move and their history says so."""
    first, second = demo.run("offices", "seed", "--taoyuan"), demo.run("offices", "seed", "--taoyuan")
    # The demo made the city group's organisation already (its reviewer logs in there).
    assert first.stdout.strip() == ("13 district offices and the city group: 13 created, 1 already there; "
                                    "65 units added"), first.stderr
    assert second.stdout.strip() == "13 district offices and the city group: 0 created, 14 already there; 0 units added"
    listed = {o["code"]: o for o in demo.json("offices", "list")}
    assert listed["fuxing"]["workflow_variant"] == "fuxing" and listed["bade"]["doc_no_prefix"] == "八德性字"
    versions = demo.run("workflow", "versions", "promo_material").stdout
    target = int(re.search(r"v(\d+)\s+fuxing", versions)[1])  # type: ignore[index]
    drafts = [c["id"] for c in demo.json("cases", "list", "--kind", "promo_material", "--state", "draft")]
    dry = demo.run("workflow", "migrate", "promo_material", "--to", str(target), "--office", "demo", "--dry-run")
    assert dry.returncode == 0 and f"{len(drafts)} case(s) would move to v{target} (dry run" in dry.stdout
    assert all(demo.json("case", "show", str(c))["workflow_version"] != target for c in drafts)
    bad = demo.run("workflow", "migrate", "promo_material", "--to", str(target), "--map", "draft")
    assert bad.returncode == 2 and "--map takes OLD=NEW" in bad.stderr
    done = demo.run("workflow", "migrate", "promo_material", "--to", str(target), "--office", "demo")
    assert done.returncode == 0 and f"{len(drafts)} case(s) moved to v{target}" in done.stdout
    shown = demo.json("case", "show", str(drafts[0]))
    assert shown["workflow_version"] == target and shown["history"][-1]["event"] == "migrated"
    assert demo.run("audit", "verify").returncode == 0


def test_notifications_send_e_mails_what_is_owed_once(demo: Demo, smtp: tuple[SmtpInbox, int]) -> None:
    """The demo's hand-off notices, handled as a worker would; then `caseflow notifications send`
    e-mails each holder what is waiting, once, with a link to the case at the configured address.
    (Which holders depends on what the tests above have moved on.)"""
    from sqlalchemy import select, update

    from workflow.cases import approval
    from workflow.db import Database
    from workflow.models import OutboxMessage, User
    from workflow.notifications import handoffs

    inbox, port = smtp
    assert demo.run("notifications", "send").stdout.startswith("CASEFLOW_SMTP_HOST is not set")
    db = Database(f"sqlite:///{demo.instance / 'caseflow.db'}")
    try:
        with db.unit_of_work() as uow:
            notices = list(uow.session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.topic == approval.HANDOFF_TOPIC, OutboxMessage.processed_at.is_(None))))
            uow.session.execute(update(User).where(User.email.is_(None)).values(email=User.login + "@example.invalid"))
            uow.commit()
        assert notices
        for n in notices:
            handoffs.process_outbox(db, n)
    finally:
        db.dispose()
    env = {**demo.env, "CASEFLOW_SMTP_HOST": "127.0.0.1", "CASEFLOW_SMTP_PORT": str(port),
           "CASEFLOW_PUBLIC_BASE_URL": "https://caseflow.example.gov.tw"}
    run = subprocess.run([CASEFLOW, "notifications", "send"], env=env, cwd=demo.instance, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    sent = int(run.stdout.split(" e-mails sent")[0])
    assert sent >= 1 and len(inbox.messages) == sent
    for mail in inbox.mails():
        assert str(mail["Subject"]).startswith("【")  # Chinese, the demo people's language
        assert re.search(r"開啟案件：https://caseflow\.example\.gov\.tw/cases/\d+\n", body_of(mail))
    again = subprocess.run([CASEFLOW, "notifications", "send"], env=env, cwd=demo.instance, capture_output=True,
                           text=True, timeout=120)
    assert again.stdout.strip() == "0 e-mails sent, 0 digests sent" and len(inbox.messages) == sent
