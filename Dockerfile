# syntax=docker/dockerfile:1
# Launchproof's production image: the API (default command), the worker and the migrate one-shot
# all run from it (docs/deploy.md "The container").
#
# Base image: python:3.11.14-slim-bookworm pinned by its multi-platform index digest, the digest
# other public repositories pin for that tag (it could not be pulled or re-resolved where this
# file was written: no Docker engine, no registry). `make lock-image` resolves the tag again
# (docker buildx imagetools) and rewrites both FROM lines; Renovate/Dependabot can do the same.
#
# Dependencies: requirements/runtime.txt and requirements/build.txt (`make lock`), exact versions
# with every file's sha256; pip refuses anything else (--require-hashes, --no-deps, no build
# isolation, so no unhashed build dependency is fetched either).

FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/ ./requirements/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements/build.txt \
    && /opt/venv/bin/pip install --require-hashes --no-deps --no-build-isolation \
        -r requirements/runtime.txt
# The application as a wheel: pyproject.toml leaves out the model stub and the dev tools.
COPY pyproject.toml README.md ./
COPY app/ ./app/
RUN /opt/venv/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /dist . \
    && /opt/venv/bin/pip install --no-deps --no-index /dist/launchproof-*.whl \
    && /opt/venv/bin/pip uninstall --yes setuptools pip

FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d AS runtime
LABEL org.opencontainers.image.title="launchproof" \
      org.opencontainers.image.description="Launchproof API, worker and migrations" \
      org.opencontainers.image.licenses="MIT"
# A fixed, unprivileged UID/GID (Kubernetes runAsUser / compose user: 10001), no shell, no home.
RUN groupadd --system --gid 10001 launchproof \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin launchproof
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
# `python -m app migrate` reads these from the working directory (app/core/migrations.py).
COPY alembic.ini ./
COPY migrations/ ./migrations/
# Read-only root filesystem: the only writable path is /tmp (mount a tmpfs or emptyDir there):
# upload spooling (tempfile), docx extraction, and PROMETHEUS_MULTIPROC_DIR for --workers N.
# No secrets here: they arrive at run time as files (*_FILE) or environment from the platform.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    TMPDIR=/tmp \
    ENVIRONMENT=production
USER 10001:10001
EXPOSE 8000
# SIGTERM drains: the API stops accepting, open turns get SHUTDOWN_GRACE_SECONDS (default 20)
# and then end `incomplete`; the worker finishes its claimed batch.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "app", "healthcheck", "--port", "8000"]
CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "8000"]
