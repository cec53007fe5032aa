"""Background work: the Celery app, thin task functions that take ids, the outbox relay and the
in-process runner used by the embedded default (no Redis)."""
