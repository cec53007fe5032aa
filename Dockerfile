# The caseflow image: the web app under gunicorn, and the same image runs the workers and beat.
# Right by construction: the first stage builds caseflow's wheel from the tree (every package
# pyproject.toml finds, with its data files); the image installs that wheel, never a hand-kept
# list of folders. .dockerignore keeps local state (venvs, instance, caches) out of the context.
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CASEFLOW_INSTANCE=/data
# LibreOffice (ODT/PDF, driven over UNO by the system python3), Kai and Liberation fonts.
RUN apt-get update && apt-get install -y --no-install-recommends libreoffice-writer-nogui python3-uno \
        fonts-arphic-ukai fonts-noto-cjk fonts-liberation && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN WHEEL=$(ls /wheels/caseflow-*.whl) && pip install --no-cache-dir "${WHEEL}[prod]" && rm -rf /wheels \
    && useradd --system --home /data caseflow && mkdir -p /data && chown caseflow /data
WORKDIR /data
USER caseflow
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "web:create_app()"]
