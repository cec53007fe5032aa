"""The one beat schedule (what runs when, in one place)."""

from __future__ import annotations

from typing import Any

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Publish outbox rows the after-commit relay missed (broker down, process died, Redis flushed).
    "sweep-outbox": {"task": "caseflow.sweep_outbox", "schedule": 30.0},
}
