# The two commands a new user needs: `make run` and `make test`. Both set everything up.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.bootstrapped
CARD   ?=

.PHONY: run test bench lint fuzz setup clean deb

$(STAMP): pyproject.toml scripts/bootstrap.sh
	./scripts/bootstrap.sh
	@touch $(STAMP)

setup: $(STAMP)

## make run: the kiosk on its embedded default (simulated reader with the tester panel, gateway
## simulator on loopback, local cache): the Qt screens with a display, the terminal without.
run: $(STAMP)
	CARD=$(CARD) $(VENV)/bin/cccd-kiosk

## make test: the whole suite (unit, ICAO worked examples, simulator end to end, property tests).
test: $(STAMP)
	$(PY) -m pytest -q -n 2 tests

## make bench: benchmarks; prints medians and ratios quoted in the README.
## make bench BENCH="read auth": only those (read, auth, pcsc, cache, outbox, checkin, ui, pin, ops).
bench: $(STAMP)
	$(PY) -m bench $(BENCH)

## make fuzz: the hypothesis properties run far longer (>= 1 M inputs in all).
fuzz: $(STAMP)
	CCCD_FUZZ=1 $(PY) -m pytest -q -n 2 -m "not pcsc" -p no:cacheprovider tests/ -k fuzz

## make deb: dist/cccd-kiosk_<version>_<arch>.deb (a venv under /opt/cccd-kiosk, the systemd
## units, udev rules); VERSION=... overrides pyproject's. See README "Installing on a kiosk".
deb: $(STAMP)
	./scripts/build_deb.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

## make screenshots: every kiosk screen (both modes, vi and en, 1920x1080 and 1280x800) as PNG,
## rendered offscreen (no display needed) into SCREENSHOTS_DIR (default docs/screenshots).
SCREENSHOTS_DIR ?= docs/screenshots
.PHONY: screenshots
screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots.py --out "$(SCREENSHOTS_DIR)"
