"""Login flood with the limiter's Redis up, stopped and back (a private redis-server): 429s throughout, never a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from flask import Flask

from tests.conftest import OfficeFixture
from tests.servers import RedisServer
from tests.web.conftest import Browser
from web import create_app
from workflow.db import Database

pytestmark = [pytest.mark.fault]

ATTACKER, OWNER = "203.0.113.7", "198.51.100.20"


def _from(app: Flask, address: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def _keys(server: RedisServer) -> list[bytes]:
    return list(server.client().scan_iter("*"))


def test_login_flood_is_limited_in_redis_and_in_memory_while_redis_is_down(
    db: Database, office: OfficeFixture, private_redis: RedisServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The documented fail mode (web/extensions.py): with Redis down the limiter falls back to each
    process's memory, so the limits still hold, per process; nobody gets a 500 and the owner gets in."""
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": private_redis.url,
                      "BACKGROUND_WORK": False})
    victim = office.logins["personnel_chief"]

    # Redis up: the sixth failure in a minute is refused, and the count is in Redis.
    attacker = _from(app, ATTACKER)
    assert [attacker.login(victim, "guess").status_code for _ in range(6)] == [200] * 5 + [429]
    assert _keys(private_redis), "the limiter did not count in the private Redis"

    # Redis stopped: no 5xx; a new flood (another account) is counted in memory and refused.
    private_redis.stop()
    with pytest.raises(redis.exceptions.ConnectionError):
        private_redis.client().ping()
    other = office.logins["civil_chief"]
    statuses = [attacker.login(other, "guess").status_code for _ in range(8)]
    assert all(s < 500 for s in statuses), statuses
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}, statuses
    assert _from(app, OWNER).login(victim).status_code == 303  # the owner, from elsewhere, gets in

    # Redis back (empty): still no 5xx, and the limiter writes to it again.
    private_redis.start()
    assert _keys(private_redis) == []
    third = office.logins["social_chief"]
    statuses = [_from(app, "192.0.2.9").login(third, "guess").status_code for _ in range(6)]
    assert all(s < 500 for s in statuses) and statuses[-1] == 429, statuses
