# iotops.dps_tls: every target bootstraps what it needs from nothing (a virtualenv from PyPI,
# Debian packages with apt-get), so a fresh clone needs only `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
BUILD ?= $(CURDIR)/.build
COLL := $(BUILD)/ansible_collections/iotops/dps_tls
BIN := $(VENV)/bin
PIP_CACHE := $(HOME)/.ansible/test/cache
ANSIBLE_TEST := cd $(COLL) && $(BIN)/ansible-test
APT_PACKAGES := openssl ca-certificates util-linux p11-kit iproute2 nmap shellcheck openjdk-17-jre-headless openssh-client chromium
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)
export ANSIBLE_FORCE_COLOR ?= 0

.PHONY: help venv system-packages collection demo test sanity units integration lint emulator bench bench-fleet clean

help:
	@echo "make demo         run the whole flow offline against the bundled DPS emulator"
	@echo "make test         sanity, units, integration and lints (what CI runs)"
	@echo "make sanity | units | integration | lint | emulator | bench | bench-fleet | clean"

$(VENV)/.ready: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	mkdir -p $(PIP_CACHE)
	@# ansible-test's pip bootstrap downloads from a host outside the package registries; use pip's wheel instead.
	$(BIN)/pip download -q --no-deps -d $(PIP_CACHE) pip==24.2
	cp hack/get_pip_standin.py $(PIP_CACHE)/get_pip_24_2.py
	touch $@

venv: $(VENV)/.ready

# Debian packages the tests use (real update-ca-certificates, openssl s_server, unshare, nmap, keytool, ssh);
# npm (for real Node.js SDK packages) only when no npm is on PATH, since Node.js may bring its own.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

collection: venv
	@hack/sync_collection.sh $(BUILD) >/dev/null

demo: collection
	cd $(COLL) && DEMO_PYTHON=$(BIN)/python hack/demo.sh

emulator: collection
	cd $(COLL) && PYTHONPATH=emulator $(BIN)/python -m dpsemu serve --state-dir $(CURDIR)/.build/emulator-state

# The static checks share the two cores side by side; integration runs after them on its own, since some of its
# drills are about timing (kills at random moments, timeouts shorter than an operation).
test: collection system-packages
	$(MAKE) --no-print-directory -j3 --output-sync=target sanity units lint
	$(MAKE) --no-print-directory integration

sanity: collection system-packages
	$(ANSIBLE_TEST) sanity --venv --python 3.11 --color no

units: collection
	$(ANSIBLE_TEST) units --local --python 3.11 --color no

integration: collection system-packages
	$(ANSIBLE_TEST) integration --local --python 3.11 --color no $(TARGETS)

# ansible-lint with the collections path set, so playbooks under tests/integration resolve iotops.dps_tls too;
# galaxy-importer (what Galaxy and Automation Hub run on upload) on the built tarball, offline.
lint: collection
	cd $(COLL) && ANSIBLE_COLLECTIONS_PATH=$(BUILD) $(BIN)/ansible-lint --offline --profile production
	cd $(COLL) && $(BIN)/antsibull-docs lint-collection-docs --plugin-docs .
	cd $(COLL) && $(BIN)/antsibull-changelog lint
	cd $(COLL)/extensions/azure_pipelines && $(BIN)/python check_pipeline_schema.py --if-schema-exists --schema $(CURDIR)/../shared/data/azure-pipelines/service-schema.json --repository dps_tls=$(COLL) dps-tls-*.yml azure-pipelines*.yml
	rm -rf $(BUILD)/importer && mkdir -p $(BUILD)/importer/tmp
	$(BIN)/ansible-galaxy collection build $(COLL) --output-path $(BUILD)/importer >/dev/null
	cd $(BUILD)/importer && GALAXY_IMPORTER_RUN_ANSIBLE_TEST=false GALAXY_IMPORTER_OFFLINE_ANSIBLE_LINT=true \
	  GALAXY_IMPORTER_TMP_ROOT_DIR=$(BUILD)/importer/tmp GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$(BUILD)/importer/tmp \
	  $(BIN)/python -m galaxy_importer.main $(BUILD)/importer/iotops-dps_tls-*.tar.gz

bench: collection system-packages
	cd $(COLL) && $(BIN)/python hack/bench.py --output $(CURDIR)/docs/performance.md

# The SSH fleet (one sshd per simulated device): SIZES=10,100,1000 by default. On 2 cores about 70 minutes with
# NAIVE_UP_TO=100 (the naive role at 1,000 devices adds about 50); MITOGEN_UP_TO=100 adds about 10.
# MITOGEN=1 installs mitogen (PyPI) into the virtualenv and measures its strategy beside the plain runs
# (MITOGEN_UP_TO=N: on fleets of at most N devices); NAIVE_UP_TO=N likewise for the naive role.
# acct (Debian) gives the CPU of each kind of process around the floor and the ca_trust task; the bench turns
# the kernel's process accounting on for those runs and off after them.
# Make's $(or) splits its arguments at commas, so the default list of sizes is a variable of its own.
SIZES ?= 10,100,1000
bench-fleet: collection system-packages
	@dpkg -s openssh-server acct >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server acct >/dev/null
	$(if $(MITOGEN),$(BIN)/pip install -q mitogen)
	cd $(COLL) && $(BIN)/python hack/bench_fleet.py --sizes $(SIZES) $(if $(NAIVE_UP_TO),--naive-up-to $(NAIVE_UP_TO)) $(if $(MITOGEN),--mitogen $(if $(MITOGEN_UP_TO),--mitogen-up-to $(MITOGEN_UP_TO))) --output $(CURDIR)/docs/performance-fleet.md

clean:
	rm -rf $(BUILD) $(VENV)
