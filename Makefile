# The front door. `make report STORE=demo-bangkok` and `make test` set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
KERNEL := crm-analytics
STORE  ?= demo-bangkok
MONTH  ?=
JOBS   ?= 2
SET    ?=

export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: help setup data lab report reports ingest test lint typecheck format bench clean

help:
	@echo "make setup                     build .venv and register the '$(KERNEL)' Jupyter kernel"
	@echo "make data                      write the demo stores to data/warehouse (if missing)"
	@echo "make report STORE=x [MONTH=YYYY-MM]  render reports/x/<month>/index.html"
	@echo "make reports [MONTH=YYYY-MM]   every store, in parallel (JOBS=$(JOBS))"
	@echo "make ingest STORE=x FORMAT=f FILES=\"a.csv b.csv\" [TABLE=orders] [QUARANTINE=1]"
	@echo "                               [SET=\"currency=GBP timezone=Europe/London\"] (a new store's params)"
	@echo "                               validate export files and merge them into data/warehouse"
	@echo "make lab                       JupyterLab on the notebooks"
	@echo "make test                      ruff, mypy, pytest, nbval"
	@echo "make bench [BIG=1]             benchmarks (benchmarks/README.md); BIG=1 adds 100M orders"
	@echo "make typecheck                 mypy over src/analysis (config: [tool.mypy] in pyproject.toml)"

setup: $(STAMP)

# Re-runs only when pyproject.toml changes (or the venv is missing).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "CRM analytics" >/dev/null
	@touch $(STAMP)

data: setup
	$(BIN)/analysis demo-data --if-missing

# Jupyter refuses to start as root ("Running as root is not recommended"), which is
# what most containers are: allow it there, and only there.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: data
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_FLAGS)

report: setup
	@$(if $(filter demo-%,$(STORE)),$(BIN)/analysis demo-data --if-missing,true)
	@$(if $(filter cdnow,$(STORE)),$(BIN)/analysis ingest --format cdnow --if-missing,true)
	$(BIN)/analysis report --store "$(STORE)" $(if $(MONTH),--month "$(MONTH)") $(foreach s,$(SET),--set "$(s)")

reports: data
	$(BIN)/analysis reports --jobs $(JOBS) $(if $(MONTH),--month "$(MONTH)") $(foreach s,$(SET),--set "$(s)")

FORMAT ?= mapped
TABLE  ?= orders
FILES  ?=
# STORE only when given (its default, demo-bangkok, must never receive another store's file)
ingest: setup
	$(BIN)/analysis ingest $(if $(filter command line environment,$(origin STORE)),--store "$(STORE)") --format "$(FORMAT)" --table "$(TABLE)" $(if $(QUARANTINE),--quarantine) $(foreach s,$(SET),--set "$(s)") $(FILES)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup data lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup
	$(BIN)/pytest -p no:xdist --nbval-lax --nbval-kernel-name $(KERNEL) notebooks/

bench: data
	$(BIN)/python -m benchmarks $(if $(BIG),--big)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
