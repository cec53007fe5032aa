"""What every caseflow process counts and times for ``/metrics`` (prometheus-client).

Counters and histograms live in the process where the event happens (a web process fires a
transition, a Celery pool child renders). Where several processes serve one endpoint (gunicorn's
workers; a Celery worker's pool) they share them through prometheus-client's multiprocess mode:
``PROMETHEUS_MULTIPROC_DIR`` names a directory of one file per process, and the endpoint adds them
up (``web.ops``, ``tasks.worker_process``). Backlogs are not counted here: ``/metrics`` reads them
from the database when it is scraped, since the database is the truth for them.
"""

from __future__ import annotations

from workflow.config import metrics_dir

_dir = metrics_dir()
if _dir is not None:  # prometheus-client writes its files there as soon as a metric exists
    _dir.mkdir(parents=True, exist_ok=True)

from prometheus_client import Counter, Histogram  # noqa: E402

TRANSITIONS = Counter("caseflow_transitions", "Transitions fired, by case kind and trigger", ["kind", "trigger"])
DOCUMENT_RENDERS = Counter(
    "caseflow_document_renders",
    "Deliveries of a render request, by document and outcome (ready, failed, already_ready, busy, skipped)",
    ["document", "outcome"])
RENDER_SECONDS = Histogram(
    "caseflow_document_render_seconds", "Time to render and store one .docx", ["document"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))
CONVERSIONS = Counter(
    "caseflow_document_conversions",
    "ODT/PDF conversions by format and outcome (ok, failed, unavailable: no LibreOffice)", ["format", "outcome"])
CONVERSION_SECONDS = Histogram(
    "caseflow_document_conversion_seconds", "Time of one LibreOffice conversion", ["format"],
    buckets=(0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0))
PUBLICATIONS = Counter(
    "caseflow_publications",
    "Attempts to publish a web posting, by outcome (published, retry, failed, busy, not_due, done, skipped)",
    ["outcome"])
REMINDERS = Counter("caseflow_reminders", "Reminders recorded (each with its in-app notifications), by kind",
                    ["kind"])
NOTIFICATION_EMAILS = Counter("caseflow_notification_emails",
                              "Notification e-mails (each one, or a daily digest), by kind and outcome (sent, failed)",
                              ["kind", "outcome"])
