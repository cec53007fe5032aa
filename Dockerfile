# The caseflow image: the web app under gunicorn (and, from the documents issue on, the workers).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CASEFLOW_INSTANCE=/data
WORKDIR /app
# LibreOffice (ODT/PDF, driven over UNO by the system python3), Kai and Liberation fonts.
RUN apt-get update && apt-get install -y --no-install-recommends libreoffice-writer-nogui python3-uno \
        fonts-arphic-ukai fonts-noto-cjk fonts-liberation && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY workflow workflow
COPY web web
COPY documents documents
COPY tasks tasks
COPY caseflow caseflow
RUN pip install --no-cache-dir ".[prod]" && useradd --system --home /data caseflow && mkdir -p /data \
    && chown caseflow /data
USER caseflow
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "web:create_app()"]
