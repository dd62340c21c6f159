# The two set-up commands README.md gives; each one installs whatever it needs first.
#   make drill   rehearse a provider outage on the embedded defaults
#   make test    pass the tests (peers it can install itself: Prism, localstripe; Redis and
#                PostgreSQL when their packages are installed and it runs as root)
#   make dist    wheels and sdists of payrouter (with its adapters) and payrouter-lab in dist/

VENV   := .venv
BIN    := $(VENV)/bin
PRISM  := .peers/node_modules/.bin/prism

DIST   := dist

.PHONY: drill test lint dist

$(BIN)/.installed: pyproject.toml lab/pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]" -e ./lab
	touch $@

$(PRISM):
	npm install --prefix .peers --save-exact --no-audit --no-fund --loglevel=error @stoplight/prism-cli@5.14.2

drill: $(BIN)/.installed
	$(BIN)/payrouter drill --report drill-report

test: $(BIN)/.installed $(PRISM)
	bash .ci/test

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy tests/test_public_types.py
	$(BIN)/lint-imports

# Built without isolation from the venv's hatchling, so it works offline; tests/test_install.py
# installs these archives into a clean venv and runs README's fifteen-line example.
dist: $(BIN)/.installed
	$(BIN)/python -m build --no-isolation --outdir $(DIST) .
	$(BIN)/python -m build --no-isolation --outdir $(DIST) lab
