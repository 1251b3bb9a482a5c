# Helpdesk — the two commands that matter: `make run` and `make test`.
#
# Every target installs what it needs and skips what is already present at the right version.
# Nothing here downloads from GitHub or a CDN: Rust tools come from crates.io, wasm-opt from the
# npm registry, Chromium from Debian.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TRUNK_VERSION        := 0.21.14
WASM_BINDGEN_VERSION := 0.2.128
BINARYEN_VERSION     := 132
CARGO_BIN            := $(HOME)/.cargo/bin
# node_modules/.bin first: the SPA build must pick npm's binaryen, never Debian's (it builds a blank page).
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)

DATABASE_URL ?= sqlite://data/helpdesk.db?mode=rwc
BIND_ADDR    ?= 127.0.0.1:8080
export DATABASE_URL BIND_ADDR

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WORKSPACE_NATIVE := --workspace --exclude helpdesk-frontend
HELPDESK := cargo run --quiet --release -p helpdesk-server --

# `make bench`: seeded size, database (postgres | sqlite) and any further loadgen flags.
BENCH_TICKETS ?= 1000000
BENCH_DB      ?= postgres
BENCH_ARGS    ?=

.PHONY: help run test dev lint fmt seed build frontend tools trunk-tool browser-tools mail-tools check-postgres fuzz bench clean

help:
	@echo "make run    build everything, migrate + seed SQLite, serve http://$(BIND_ADDR)"
	@echo "make test   fmt, clippy, unit + black-box tests (SQLite and PostgreSQL), browser tests, fuzz"
	@echo "make fuzz   schemathesis against a fresh seeded server as customer, agent and admin"
	@echo "make dev    API on :8080 and 'trunk serve' with live reload on :8000"
	@echo "make lint   fmt --check and clippy -D warnings"
	@echo "make seed   create the demo users in DATABASE_URL"
	@echo "make bench  load benchmark on PostgreSQL at 127.0.0.1:5432 (BENCH_TICKETS=$(BENCH_TICKETS)); see docs/benchmarks.md"

## ---- tools -------------------------------------------------------------------------------

# What `make run` and `make test` need to build the SPA: the wasm32 target, wasm-bindgen-cli
# and npm's binaryen (wasm-opt). Trunk is only for `make dev` (live reload): `trunk-tool`.
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked; fi
	@if ! node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version $(BINARYEN_VERSION)"; then \
	  command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }; \
	  npm ci --no-audit --no-fund; fi

browser-tools:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing Debian's chromium and chromium-driver"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium chromium-driver; fi

## ---- build -------------------------------------------------------------------------------

frontend: tools
	scripts/build-spa

build:
	cargo build --release -p helpdesk-server

## ---- run ---------------------------------------------------------------------------------

# The demo sends its notification mail to .eml files in data/mail/ instead of an SMTP server
# (set MAIL_TRANSPORT=smtp and SMTP_URL for real delivery, MAIL_ENABLED=false for none).
run: export MAIL_ENABLED ?= true
run: export MAIL_TRANSPORT ?= file
run: export PUBLIC_URL ?= http://$(BIND_ADDR)
run: frontend build
	$(HELPDESK) migrate
	$(HELPDESK) seed
	@echo
	@echo "Helpdesk is starting at http://$(BIND_ADDR)  (API docs: http://$(BIND_ADDR)/api/docs/)"
	@echo "Outgoing mail ($${MAIL_TRANSPORT}): $$( [ "$${MAIL_TRANSPORT}" = file ] && echo "data/mail/" || echo "$${SMTP_URL:-smtp://127.0.0.1:25}")"
	@echo
	$(HELPDESK) serve

seed:
	$(HELPDESK) seed

trunk-tool:
	@if [ "$$(trunk --version 2>/dev/null)" != "trunk $(TRUNK_VERSION)" ]; then \
	  echo "installing trunk $(TRUNK_VERSION) (only \`make dev\` uses it; this takes a while once)"; \
	  cargo install trunk --version $(TRUNK_VERSION) --locked; fi

dev: tools trunk-tool
	@trap 'kill 0' EXIT; \
	cargo run -p helpdesk-server -- serve & \
	trunk serve

## ---- quality -----------------------------------------------------------------------------

fmt:
	cargo fmt --all

lint: tools
	cargo fmt --all -- --check
	cargo clippy $(WORKSPACE_NATIVE) --all-targets -- -D warnings
	cargo clippy -p helpdesk-frontend --target wasm32-unknown-unknown -- -D warnings

# PostgreSQL is part of `make test`. When it is reachable, its tests must pass; when it is not,
# they are skipped loudly (CI sets HELPDESK_REQUIRE_POSTGRES=1 so they fail instead).
check-postgres:
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "postgres: reachable on 127.0.0.1:5432"; \
	elif [ "$${HELPDESK_REQUIRE_POSTGRES:-}" = 1 ]; then \
	  echo "postgres: NOT reachable on 127.0.0.1:5432 but required" >&2; exit 1; \
	else \
	  echo "################################################################"; \
	  echo "SKIPPED: postgres (nothing on 127.0.0.1:5432; its tests will pass without running)"; \
	  echo "################################################################"; fi

# The mail tests send to a real SMTP server: aiosmtpd from PyPI, run as a child process.
AIOSMTPD_VERSION := 1.4.6
# Real mail servers for the mail tests: aiosmtpd (SMTP, PyPI) and Dovecot (IMAP, Debian), run
# by the tests themselves on free ports. Dovecot's mail processes run as helpdesk-mailtest
# (it refuses root); the system Dovecot the package may start is stopped.
mail-tools:
	@if [ "$$(python3 -c 'import aiosmtpd; print(aiosmtpd.__version__)' 2>/dev/null)" != "$(AIOSMTPD_VERSION)" ]; then \
	  echo "installing aiosmtpd $(AIOSMTPD_VERSION)"; \
	  python3 -m pip install --quiet aiosmtpd==$(AIOSMTPD_VERSION) \
	    || python3 -m pip install --quiet --break-system-packages aiosmtpd==$(AIOSMTPD_VERSION); fi
	@if ! command -v dovecot >/dev/null; then \
	  echo "installing dovecot-imapd"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-lmtpd) \
	    || { echo "cannot install dovecot-imapd (run as root, or install it yourself)"; exit 1; }; \
	  (service dovecot stop || true) >/dev/null 2>&1; fi
	@id helpdesk-mailtest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin helpdesk-mailtest \
	  || echo "cannot create the user helpdesk-mailtest: the IMAP tests will skip"

test: tools browser-tools mail-tools check-postgres lint frontend
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then export HELPDESK_REQUIRE_POSTGRES=1; fi; \
	if python3 -c 'import aiosmtpd' 2>/dev/null && command -v dovecot >/dev/null \
	  && id helpdesk-mailtest >/dev/null 2>&1; then export HELPDESK_REQUIRE_MAIL=1; fi; \
	HELPDESK_REQUIRE_BROWSER=1 cargo test $(WORKSPACE_NATIVE)
	# The SPA's pure logic (journey builder drafts) also has native unit tests.
	cargo test -p helpdesk-frontend
	$(MAKE) --no-print-directory fuzz

# Property-based fuzzing of the API (schemathesis from PyPI, pinned, in ~/.cache/helpdesk)
# against a freshly seeded debug server on a free port; fails on any finding.
fuzz:
	scripts/fuzz-api

## ---- benchmark ---------------------------------------------------------------------------

# Seeds a fresh database (PostgreSQL: `helpdesk_bench`, dropped and recreated), starts the
# release server on a free 127.0.0.1 port, runs every scenario and prints a markdown report.
bench: frontend
	@if [ "$(BENCH_DB)" = postgres ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "make bench needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)," \
	       "or BENCH_DB=sqlite" >&2; exit 1; fi
	@# Built on its own, the server is the very binary `make build` makes (built together
	@# with loadgen, shared dependencies would get loadgen's features too).
	@cargo build --release -p helpdesk-server >&2
	@# Only the report goes to stdout: `make bench > report.md`.
	@echo "cargo run --release -p helpdesk-loadgen -- --db $(BENCH_DB) --tickets $(BENCH_TICKETS) $(BENCH_ARGS)" >&2
	@cargo run --quiet --release -p helpdesk-loadgen -- \
	  --db $(BENCH_DB) --tickets $(BENCH_TICKETS) $(BENCH_ARGS)

clean:
	cargo clean
	rm -rf dist
