# Porthole — the two commands a newcomer needs:
#   make run    install whatever is missing, build, start the app
#   make test   everything CI runs (.ci/run calls exactly this)
# Heavy caches live outside the checkout: set CARGO_TARGET_DIR to move the
# cargo target dir; tools such as tauri-driver go to $(TOOLS_DIR).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS_DIR ?= $(HOME)/.cache/porthole/tools
TAURI_DRIVER_VERSION ?= 2.1.0
export PATH := $(TOOLS_DIR)/bin:$(PATH)

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# System packages (PLATFORM-NOTES.md): WebKitGTK and friends to build and run
# the app; Xvfb, the WebKit WebDriver and D-Bus for the end-to-end tests;
# a CJK font so Chinese text renders in screenshots.
APT_PACKAGES := libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev \
  libssl-dev libayatana-appindicator3-dev librsvg2-dev pkg-config \
  xvfb xauth webkit2gtk-driver dbus-daemon dbus-x11 imagemagick fonts-wqy-microhei \
  iproute2 chromium python3
# The app under Xvfb in a private D-Bus session (tray and single-instance use D-Bus).
GUI_ENV := dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24"
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
PORTHOLE_CLUSTER := cargo run -q -p porthole-testkit --bin porthole-cluster --

.PHONY: help run deps system-deps toolchains ui-deps e2e-tools ui test fmt-check core-is-gui-free \
  clippy bindings ui-check ui-test test-rust test-e2e app-has-no-cli no-import-cycles bundle icons control-plane \
  cluster-up cluster-down cluster-status demo bench bench-proxy bench-ui

help:
	@echo "make run    install what is missing and start Porthole"
	@echo "make test   run the whole test suite (what CI runs)"
	@echo "make bundle build the .deb and .rpm packages"
	@echo "make demo   a local kube-apiserver with sample services, and Porthole against it"
	@echo "make bench  portholectl proxy vs kubectl proxy vs direct access, and the app at 10,000 services (not part of make test)"
	@echo "eval \"\$$(make -s cluster-up)\"   start that cluster and export its KUBECONFIG; make cluster-down stops it"

## ---- the two commands ------------------------------------------------------

run: deps ui
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make run: no display (DISPLAY/WAYLAND_DISPLAY unset). Run it from a desktop session, or headless with: xvfb-run -a make run" >&2; exit 1; fi
	cargo run -p porthole

test: deps e2e-tools control-plane ui fmt-check core-is-gui-free app-has-no-cli no-import-cycles bindings ui-check ui-test clippy test-rust
	@echo "make test: all checks passed"

## ---- installing what is missing -------------------------------------------

deps: system-deps toolchains ui-deps

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

toolchains:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs), then re-run" >&2; exit 1; }
	@command -v kubectl >/dev/null || { echo "kubectl not found: the tests use it as the reference client; install it (e.g. from your distribution or the Kubernetes apt repository), then re-run" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 or newer with npm, then re-run" >&2; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' || \
	  { echo "Node.js $$(node --version) is too old: the UI build needs 20.19 or newer" >&2; exit 1; }

# npm ci only when package-lock.json changed since the last install.
ui-deps: ui/node_modules/.installed
ui/node_modules/.installed: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

e2e-tools:
	@if ! "$(TOOLS_DIR)/bin/tauri-driver" --help >/dev/null 2>&1; then \
	  echo "installing tauri-driver $(TAURI_DRIVER_VERSION) into $(TOOLS_DIR)"; \
	  cargo install tauri-driver --locked --version "$(TAURI_DRIVER_VERSION)" --root "$(TOOLS_DIR)"; \
	fi

# kube-apiserver and etcd from Go modules, cached in ~/.cache/porthole (instant when cached).
control-plane:
	@tests/control-plane/build.sh >/dev/null

## ---- the test control plane (tests/testkit) -------------------------------
# Needs root (its sample backends run in a network namespace), iproute2, and
# Go the first time (to build kube-apiserver and etcd).

cluster-up: control-plane
	@$(PORTHOLE_CLUSTER) up

cluster-down:
	@$(PORTHOLE_CLUSTER) down

cluster-status:
	@$(PORTHOLE_CLUSTER) status

demo: deps control-plane ui
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make demo: no display (DISPLAY/WAYLAND_DISPLAY unset); headless: xvfb-run -a make demo" >&2; exit 1; fi
	@eval "$$($(PORTHOLE_CLUSTER) up)"; \
	  echo "make demo: Porthole against the demo cluster ($$KUBECONFIG); stop the cluster later with: make cluster-down" >&2; \
	  cargo run -p porthole

# Release builds (measured as shipped); not part of `make test`.
# bench-proxy: portholectl proxy vs kubectl proxy vs direct access, and
# portholectl forward vs kubectl port-forward (BENCH_ARGS="--only forward"), on a
# private control plane (BENCH_ARGS: porthole-bench flags).
# bench-ui: 10,000 services on a private control plane of its own; the app
# (Xvfb, WebDriver) and a bare Tauri window (tests/bare-window).
BENCH_ARGS ?=
bench: bench-proxy bench-ui

bench-proxy: control-plane
	cargo build --release -p porthole-bench -p porthole-core -p porthole-cli -p porthole-testkit -p porthole-test-backends --bins
	$(TARGET_DIR)/release/porthole-cluster run -- $(TARGET_DIR)/release/porthole-bench $(BENCH_ARGS)

bench-ui: deps e2e-tools control-plane ui
	cargo build --release -p porthole -p porthole-bare-window -p porthole-testkit -p porthole-test-backends --bins
	$(GUI_ENV) cargo test --release -p porthole --test ui_bench

## ---- building --------------------------------------------------------------

ui: ui-deps
	cd ui && npm run build

bundle: deps ui
	ui/node_modules/.bin/tauri build --bundles deb,rpm

icons: ui-deps
	icons/generate.sh

## ---- the checks `make test` runs -------------------------------------------

fmt-check:
	cargo fmt --all --check

# docs/architecture.md's first rule: the core builds and runs without any GUI library.
core-is-gui-free:
	@gui=$$(cargo tree -p porthole-core -e normal,build,dev --prefix none --format '{p}' \
	  | grep -iE '^(tauri|wry|tao|gtk|gdk|webkit|javascriptcore|soup|libappindicator)' | sort -u || true); \
	if [ -n "$$gui" ]; then echo "porthole-core depends on GUI crates:" >&2; echo "$$gui" >&2; exit 1; fi; \
	echo "porthole-core: no tauri, wry, gtk or webkit in its dependency tree"

# portholectl is its own crate: the GUI binary links no clap and no CLI code.
app-has-no-cli:
	@cli=$$(cargo tree -p porthole -e normal --prefix none --format '{p}' \
	  | grep -E '^(clap|porthole-cli) ' | sort -u || true); \
	if [ -n "$$cli" ]; then echo "the app (porthole) links CLI crates:" >&2; echo "$$cli" >&2; exit 1; fi; \
	echo "porthole (the app): no clap or porthole-cli in its dependency tree"

# Modules depend on each other one way (docs/architecture.md): no import
# cycle among the files of porthole-core and of portholectl.
no-import-cycles:
	@python3 -m unittest discover -q -s tests/tools 2>&1 | tail -1
	@python3 tests/tools/module_cycles.py src-tauri/core/src
	@python3 tests/tools/module_cycles.py src-tauri/cli/src

# TypeScript twins of the IPC types are generated by ts-rs during cargo test;
# the committed copies must be what the Rust types say.
bindings:
	cargo test -q -p porthole-core --lib export_bindings >/dev/null
	@if [ -n "$$(git status --porcelain -- ui/src/lib/bindings)" ]; then \
	  git status --short -- ui/src/lib/bindings; \
	  echo "ui/src/lib/bindings is out of date: commit the regenerated files" >&2; exit 1; fi

ui-check: ui-deps
	cd ui && npm run check

ui-test: ui-deps
	cd ui && npm test

clippy: ui
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p porthole --test ui_bench -- -D warnings

# All Rust tests, the end-to-end ones included, with a display and a bus,
# and one private control plane for every test binary (torn down at the end).
# Porthole never writes a user's kubeconfig: every fixture kubeconfig and
# the files they reference are checksummed before the suite and checked after.
FIXTURE_DIRS := tests/fixtures src-tauri/core/tests/fixtures
FIXTURE_SUMS = $(TARGET_DIR)/fixture-checksums.sha256

test-rust: ui e2e-tools control-plane
	cargo test --workspace --no-run
	@mkdir -p $(TARGET_DIR) && find $(FIXTURE_DIRS) -type f -print0 | sort -z | xargs -0 sha256sum > $(FIXTURE_SUMS)
	$(GUI_ENV) $(TARGET_DIR)/debug/porthole-cluster run -- cargo test --workspace --no-fail-fast
	@sha256sum --quiet --strict -c $(FIXTURE_SUMS) || { echo "a fixture kubeconfig or a file it references was modified by the suite" >&2; exit 1; }
	@echo "fixtures: $$(wc -l < $(FIXTURE_SUMS)) kubeconfig and referenced files unchanged by the suite"

test-e2e: ui e2e-tools control-plane
	cargo build -p porthole-testkit --bins
	$(GUI_ENV) $(TARGET_DIR)/debug/porthole-cluster run -- cargo test -p porthole --test e2e
