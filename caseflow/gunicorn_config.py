"""gunicorn settings for caseflow's web app: ``gunicorn -c python:caseflow.gunicorn_config "web:create_app()"``.

What matters for operations: with ``PROMETHEUS_MULTIPROC_DIR`` set, the directory is emptied when
gunicorn starts (counters of a previous run would otherwise be added to this one's, and files of
long-gone pids pile up), so every worker's counters add up on /metrics. caseflow keeps no live
gauges in those files (backlogs are read from the database), so a worker that exits needs no
``mark_process_dead``: its counts stay in the sum, as counts should. Logging is the app's own
(``CASEFLOW_LOG_FORMAT``); gunicorn's access log is off because the app logs one line per request
with its request id, user and case (``web.request_log``). Other settings come from gunicorn's own
options and ``GUNICORN_CMD_ARGS`` as usual.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

bind = os.environ.get("CASEFLOW_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("CASEFLOW_WEB_WORKERS", "2"))
threads = int(os.environ.get("CASEFLOW_WEB_THREADS", "4"))
accesslog = None


def on_starting(_server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        if path.is_dir():
            for entry in path.glob("*.db"):  # prometheus-client's files only; workers' folders stay
                entry.unlink(missing_ok=True)
        path.mkdir(parents=True, exist_ok=True)
