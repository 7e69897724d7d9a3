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

.PHONY: help setup data lab report reports test lint format bench clean

help:
	@echo "make setup                     build .venv and register the '$(KERNEL)' Jupyter kernel"
	@echo "make data                      write the demo stores to data/warehouse (if missing)"
	@echo "make report STORE=x [MONTH=YYYY-MM]  render reports/x/<month>/index.html"
	@echo "make reports [MONTH=YYYY-MM]   every store, in parallel (JOBS=$(JOBS))"
	@echo "make lab                       JupyterLab on the notebooks"
	@echo "make test                      ruff, pytest, nbval"

setup: $(STAMP)

# Re-runs only when pyproject.toml changes (or the venv is missing).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "CRM analytics" >/dev/null
	@touch $(STAMP)

data: setup
	$(BIN)/analysis demo-data --if-missing

lab: data
	$(BIN)/jupyter lab --notebook-dir=notebooks

report: setup
	@$(if $(filter demo-%,$(STORE)),$(BIN)/analysis demo-data --if-missing,true)
	$(BIN)/analysis report --store "$(STORE)" $(if $(MONTH),--month "$(MONTH)") $(foreach s,$(SET),--set "$(s)")

reports: data
	$(BIN)/analysis reports --jobs $(JOBS) $(if $(MONTH),--month "$(MONTH)") $(foreach s,$(SET),--set "$(s)")

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup data lint
	$(BIN)/pytest -n 2 --dist loadgroup
	$(BIN)/pytest -p no:xdist --nbval-lax --nbval-kernel-name $(KERNEL) notebooks/

bench: data
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
