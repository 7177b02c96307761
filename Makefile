# keel.platform — every entry point a developer or CI needs.
#   make demo        the fleet story on local containers with moto as AWS (scripts/demo.py)
#   make test        the whole suite: lint, sanity, unit, integration, playbook tests, Molecule
#   make test-fast   lint, sanity, unit tests and the documentation site (no AWS, no containers)
#   make docs        role READMEs from argument specs, and the documentation site in build/docs/html
#   make ee          write the execution environment's build context to build/ee
#   make ara-report  ARA's static report of the runs recorded with scripts/ara_record.py, in build/ara
#   make ara-server  ARA's web UI on those runs, on 127.0.0.1:8000 (ARA_PORT=N for another port)
#   make test-changed  lint, unit tests and only the Molecule scenarios a change touches (BASE=main)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Molecule and ansible-lint write their caches here, not in $HOME.
export ANSIBLE_HOME := $(CURDIR)/.cache/ansible
# Plain logs: CI output is read as text.
export NO_COLOR := 1
export PY_COLORS := 0
export ANSIBLE_NOCOLOR := 1
export KEEL_DEBIAN_MIRROR ?= $(shell scripts/testbed.sh mirror)
export KEEL_DEBIAN_SECURITY_MIRROR ?= $(shell scripts/testbed.sh security-mirror)

BASE ?= main
ARA_PORT ?= 8000
SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

.PHONY: help venv testbed demo test test-fast test-changed lint yamllint ansible-lint actionlint ruff galaxy-importer sanity unit \
	install-test integration playbooks molecule $(addprefix molecule-,$(SCENARIOS)) ee docs ara-report ara-server bench-hardening bench-inventory bench-cost-tags bench-fleet \
	constraints clean

help:
	@sed -n 's/^#   //p' Makefile

venv:
	@scripts/venv.sh
	@mkdir -p .collections/ansible_collections/keel
	@ln -sfn ../../.. .collections/ansible_collections/keel/platform

testbed:
	@scripts/testbed.sh all

demo: venv testbed
	$(BIN)/python scripts/demo.py

test: test-fast install-test integration playbooks molecule

test-fast: lint sanity unit docs

# The scenarios of the roles (and plugins they use) changed since BASE; a
# change to what every scenario shares runs them all.
test-changed: lint unit
	@scenarios="$$($(BIN)/python scripts/changed_scenarios.py --base $(BASE))"; \
	echo "scenarios touched since $(BASE): $${scenarios:-none}"; \
	for scenario in $$scenarios; do $(MAKE) --no-print-directory molecule-$$scenario || exit 1; done

lint: yamllint ansible-lint ruff actionlint galaxy-importer

yamllint: venv
	yamllint --strict .

# Its own ANSIBLE_HOME: Molecule leaves a copy of the collection in
# .cache/ansible/collections, which would shadow this working tree.
ansible-lint: venv
	ANSIBLE_HOME=$(CURDIR)/.cache/ansible-lint ansible-lint --offline --profile production

actionlint: venv
	actionlint

ruff: venv
	ruff check .
	ruff format --check .

# Galaxy's and Automation Hub's import checks on a fresh tarball; any warning fails.
galaxy-importer: venv
	scripts/galaxy_importer.sh

sanity: venv
	scripts/testbed.sh tools
	scripts/sanity.sh

unit: venv
	pytest tests/unit

# The built tarball installed into a fresh virtualenv with only ansible-core, the declared
# collections (offline, from the pinned ansible package) and requirements/controller.txt.
install-test: venv testbed
	pytest tests/install

# ansible-inventory against moto_server on 127.0.0.1 (about a minute).
integration: venv
	pytest tests/integration

# site.yml, fleet_update.yml and drift.yml on five containers (keel-fleet-*);
# the rollout's ARA report is read through Debian's Chromium.
playbooks: venv testbed
	scripts/testbed.sh browser
	pytest tests/playbooks

molecule: $(addprefix molecule-,$(SCENARIOS))

$(addprefix molecule-,$(SCENARIOS)): molecule-%: venv testbed
	molecule test --scenario-name $*

# The execution environment's build context, from a fresh build of the collection.
ee: venv
	rm -rf build/ee build/ee-collection
	ansible-galaxy collection build --output-path build/ee-collection . >/dev/null
	ansible-builder create --file execution-environment.yml --context build/ee --output-filename Containerfile

# ARA's records (ARA_BASE_DIR or ARA_DATABASE_NAME, default ~/.ara/server/ansible.sqlite); see docs/ara.md.
ara-report: venv
	$(BIN)/python scripts/ara_record.py report build/ara

ara-server: venv
	$(BIN)/python scripts/ara_record.py serve 127.0.0.1:$(ARA_PORT)

docs: venv
	$(BIN)/python scripts/role_docs.py
	scripts/docs_site.sh

bench-hardening: venv testbed
	$(BIN)/python bench/hardening/run.py

bench-inventory: venv
	$(BIN)/python bench/inventory/run.py $(BENCH_ARGS)

bench-cost-tags: venv
	$(BIN)/python bench/cost_tags/run.py $(BENCH_ARGS)

# Controller CPU per host of site, fleet_update and drift against a trivial task
# (bench/fleet/README.md). BENCH_ARGS="--hosts 1,10,30" for the curve.
bench-fleet: venv testbed
	$(BIN)/python bench/fleet/run.py $(BENCH_ARGS)

constraints: venv
	$(BIN)/pip freeze --exclude-editable | sed '1i # Full pin set of the development environment (pip freeze); regenerate with\n# `make constraints` after changing controller.txt or dev.txt.' > requirements/constraints.txt

clean:
	rm -rf build .cache .collections
