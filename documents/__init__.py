"""Turns a case into files: docxtpl templates, context builders, sandboxed rendering, storage and
ODF/PDF conversion. Knows nothing about HTTP or Celery."""
