# One entry point per task; README and CI use the same names.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
STUB_PORT ?= 8300
MAIL_PORT ?= 8025

.PHONY: install run test lint typecheck pytest worker clean-data bench-chat

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,test,load]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## make run: embedded PostgreSQL (unless DATABASE_URL is set), migrations, first admin, the
## local model stub (unless OPENAI_API_KEY is set), the mail sink (unless SMTP_URL is set), the
## worker, API on :8000
run: install
	@$(BIN)/python -m app dev-db --env-file .data/dev.env
	@set -a && . ./.data/dev.env && set +a && \
	  export ENVIRONMENT=$${ENVIRONMENT:-development} PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)} && \
	  if [ -z "$${OPENAI_API_KEY:-}" ]; then \
	    $(BIN)/python -m app model-stub --port $(STUB_PORT) & stub_pid=$$!; \
	    trap 'kill $$stub_pid 2>/dev/null' EXIT INT TERM; \
	    export OPENAI_BASE_URL=http://127.0.0.1:$(STUB_PORT)/v1; \
	    echo "No OPENAI_API_KEY: bots answer through the local model stub on :$(STUB_PORT)"; \
	  fi && \
	  if [ -z "$${SMTP_URL:-}" ]; then \
	    $(BIN)/python -m app mail-sink --port $(MAIL_PORT) --dir .data/mail & sink_pid=$$!; \
	    export SMTP_URL=smtp://127.0.0.1:$(MAIL_PORT); \
	    echo "No SMTP_URL: platform mail goes to the local sink; messages land in .data/mail/"; \
	  fi && \
	  if [ -z "$${CLAMD_URL:-}" ]; then \
	    export SCANNER_DISABLED=true; \
	    echo "No CLAMD_URL: uploads are not malware-scanned (files say scan_engine: disabled)"; \
	  fi && \
	  $(BIN)/python -m app migrate && \
	  $(BIN)/python -m app dev-admin && \
	  { $(BIN)/python -m app worker & worker_pid=$$!; } && \
	  trap 'kill $$stub_pid $$sink_pid $$worker_pid 2>/dev/null' EXIT INT TERM && \
	  echo "Serving on http://$(HOST):$(PORT) (API docs at /docs). Ctrl-C stops." && \
	  $(BIN)/python -m app serve --host $(HOST) --port $(PORT)

worker: install
	@set -a && . ./.data/dev.env && set +a && ENVIRONMENT=$${ENVIRONMENT:-development} $(BIN)/python -m app worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy app tests load

## make test: lint, types, then the whole suite against real PostgreSQL (DATABASE_URL or embedded)
test: lint typecheck pytest

pytest: install checkov-venv
	@if [ -n "$$DATABASE_URL" ]; then \
	  $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
	  admin=$$($(BIN)/python -m app dev-db --admin-url-only) && \
	  POSTGRES_ADMIN_URL="$$admin" $(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

## make checkov-venv: checkov in its own venv (its dependencies conflict with the test extra's);
## tests/infra find it at .venv-checkov/bin/checkov. Pinned: a new release may add checks.
CHECKOV_VENV := .venv-checkov
.PHONY: checkov-venv
$(CHECKOV_VENV)/bin/checkov:
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov==3.3.30'

checkov-venv: $(CHECKOV_VENV)/bin/checkov

## make checklist-doc: regenerate docs/checklist.md from the tests' checklist markers (make test
## fails when the two drift apart; tests/test_checklist.py)
.PHONY: checklist-doc
checklist-doc: install
	$(BIN)/python -m tests.checklist_doc

clean-data:
	@$(BIN)/python -m app dev-db --stop || true
	rm -rf .data

## make bench-chat: backend overhead on streamed chat answers and message persistence, on its own
## stack on 127.0.0.1 (DATABASE_URL or embedded); reports/ and docs/performance.md.
## Options: BENCH_ARGS='--turns 200 --seconds 60 --concurrency 1,4,8'
bench-chat: install
	$(BIN)/python -m load.chat_overhead $(BENCH_ARGS)

# --- Load and performance (issue 8; docs/performance.md) -------------------------------------
.PHONY: load load-steps bench-ceiling

## make load: the Locust creator-platform mix, headless and bounded, against its own stack on
## 127.0.0.1 (production settings apart from TLS); CSV/JSON/HTML in reports/; exit 1 when a
## non-model p95 exceeds the budget. Options: LOAD_SECONDS=75 LOAD_USERS=20 LOAD_ARGS='...'
load: install
	$(BIN)/python -m load.locust_run $(LOAD_ARGS)

## make load-steps: the same mix at 10/20/40/80 users; plots docs/img/load-latency.png
load-steps: install
	$(BIN)/python -m load.locust_run --steps $${LOAD_STEPS:-10,20,40,80} --seconds $${LOAD_SECONDS:-30} $(LOAD_ARGS)

## make bench-ceiling: wrk against a bare FastAPI /ping and SELECT 1 and Launchproof's /v1/me,
## 20-item list and JSON send, quiet and under a failed-login flood; ratios; exit 1 on a miss.
## Needs wrk: apt-get install -y wrk. Options: CEILING_ARGS='--http httptools --seconds 15'
bench-ceiling: install
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk" >&2; exit 2; }
	$(BIN)/python -m load.ceiling $(CEILING_ARGS)

# --- The container (docs/deploy.md "The container") ------------------------------------------
.PHONY: lock lock-image wheel
LOCK_FLAGS = --python-version 3.11 --universal --generate-hashes --custom-compile-command "make lock" --quiet

## make lock: requirements/runtime.txt (pyproject's runtime dependencies, no extras) and
## requirements/build.txt (setuptools), exact versions with sha256 hashes, for the image's
## `pip install --require-hashes`. Keeps existing pins; LOCK_ARGS=--upgrade takes new releases.
## tests/infra/test_container_lock.py fails when pyproject.toml and the lock drift apart.
lock: install
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements/runtime.txt
	$(BIN)/uv pip compile requirements/build.in $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements/build.txt

## make lock-image: re-resolve the base image tag to its current digest and pin both FROM lines
## (needs docker with buildx, or set BASE_DIGEST=sha256:... yourself).
BASE_TAG ?= python:3.11.14-slim-bookworm
lock-image:
	@digest=$${BASE_DIGEST:-$$(docker buildx imagetools inspect $(BASE_TAG) --format '{{json .Manifest.Digest}}' | tr -d '"')} && \
	  case "$$digest" in sha256:*) ;; *) echo "no digest for $(BASE_TAG)" >&2; exit 2;; esac && \
	  sed -i -E "s|^FROM python:[^ ]+ AS|FROM $(BASE_TAG)@$$digest AS|" Dockerfile && \
	  grep -n '^FROM' Dockerfile

## make wheel: the production wheel in dist/ (no model stub, no dev tools), as the image builds it.
wheel: install
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation --wheel-dir dist .
