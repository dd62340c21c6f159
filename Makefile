# The two set-up commands README.md gives; each one installs whatever it needs first.
#   make drill   rehearse a provider outage on the embedded defaults
#   make test    pass the tests (peers it can install itself: Prism, localstripe; Redis and
#                PostgreSQL when their packages are installed and it runs as root)
#   make dist    wheels and sdists of payrouter (with its adapters) and payrouter-lab in dist/
#   make test-fast PYTHON_VERSION=3.13   the fast suite (-m "not slow") on another Python
#                from pyenv, in its own .venv-3.13

VENV   := .venv
BIN    := $(VENV)/bin
PRISM  := .peers/node_modules/.bin/prism

DIST   := dist

PYENV_VERSIONS := $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions

.PHONY: drill test test-fast lint dist

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

# A venv per extra Python (pyenv's), reinstalled when the package metadata changes.
.venv-%/.installed: pyproject.toml lab/pyproject.toml
	@python=$$(ls -d $(PYENV_VERSIONS)/$*.*/bin/python3 2>/dev/null | sort -V | tail -1); \
	  test -n "$$python" || { echo "no Python $* in $(PYENV_VERSIONS)"; exit 1; }; \
	  "$$python" -m venv .venv-$*
	.venv-$*/bin/pip install --quiet -e ".[dev]" -e ./lab
	touch $@

test-fast: $(PRISM)
	@test -n "$(PYTHON_VERSION)" || { echo "set PYTHON_VERSION, e.g. 3.13"; exit 2; }
	$(MAKE) .venv-$(PYTHON_VERSION)/.installed
	PYTEST=.venv-$(PYTHON_VERSION)/bin/pytest bash .ci/test -m "not slow"
