# One entry point per task; every target creates .venv on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup pdf-tools test lint run demo bench bench-fairness mutants drills clean
N ?= 100000

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) pdf-tools

# The CJK font the printed records are set in (service/printing/font.py) and the tools their tests
# read them back with: Debian packages, installed when missing where apt-get can (as root).
PDF_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
PDF_PACKAGES := fonts-wqy-microhei poppler-utils zbar-tools
pdf-tools:
	@if [ -f $(PDF_FONT) ] && command -v pdftoppm >/dev/null && command -v zbarimg >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES); \
	else echo "printed records need: sudo apt-get install $(PDF_PACKAGES) (the PDF tests skip without them)"; fi

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check domain projections service tests bench tools drills
	$(BIN)/mypy domain projections service

# Load the demo county into the default SQLite file (once), print a token and examples, serve.
run: $(STAMP)
	$(BIN)/trainrec serve --demo --host 127.0.0.1 --port 8000

demo: $(STAMP)
	$(BIN)/trainrec demo

# Every hot path on PostgreSQL beside its baseline; writes bench/RESULTS.md. `make bench N=1000000` for the long run.
# `make bench ARGS=--reads-only`: the region, the rebuild and the reads (compliance as_of a past instant among
# them) without `trainrec import` and the HTTP runs; adds the rows RESULTS.md lacks, keeps the full run's.
bench: $(STAMP)
	$(BIN)/python -m bench.run --teachers $(N) $(ARGS)

# Probe write p50/p99 of a server alone and with three refused 5,000-line sheets in flight (PostgreSQL;
# ARGS=--sqlite for an SQLite file).
bench-fairness: $(STAMP)
	$(BIN)/python -m bench.fairness $(ARGS)

# Mutation testing of domain/ and the figures of projections/ (mutmut, in mutants/): prints the score
# per group and each mutant left alive; docs/mutation-testing.md. `tools/mutants.py report` reprints it.
mutants: $(STAMP)
	$(BIN)/python tools/mutants.py run

# The operator's drills (drills/): kill -9 of server and follower under load, a PostgreSQL restart and
# an outage on a cluster of their own, slow and oversized requests, a stalled committer. Each prints
# its figures. `make drills SHORT=1` is the short version CI runs (bounded to 5 minutes).
SHORT ?=
DRILLS_LIMIT := $(if $(SHORT),300,1800)
drills: $(STAMP)
	TRAINREC_DRILLS_SHORT=$(SHORT) timeout --kill-after=10 $(DRILLS_LIMIT) $(BIN)/python -m pytest -q -p no:cacheprovider drills $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var mutants .pytest_cache .mypy_cache .ruff_cache
