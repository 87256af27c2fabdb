# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv when missing, installs exactly the lock (requirements.lock: every package,
# transitive ones included, at one version with its hashes), then the project itself without
# dependencies, and reuses the environment after. uv installs it when it can be had (itself
# taken from the lock, hash-checked, by pip); pip installs the same file otherwise. Both
# compile every module to bytecode at install: where PYTHONDONTWRITEBYTECODE is set, nothing
# writes .pyc files later, and each process (a notebook's kernel, a test worker, a CLI call)
# would compile pandas, plotly and the rest from source again (about 2 s each).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.s3forensics-installed
LOCK   := requirements.lock
# The kit's working folder (sandbox state, Parquet cache, audit log) stays in the clone.
export S3FORENSICS_HOME ?= $(CURDIR)/.s3forensics

.PHONY: demo test test-fast test-future lint goldens install lock bench clean-reports distclean

install: $(STAMP)

# The lock's block for one package (its pin line and the indented hash lines after it).
lock_block = awk '/^$(1)==/{p=1; print; next} p && /^[ \t]/{print; next} {p=0}' $(LOCK)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(call lock_block,uv) > $(VENV)/uv-lock.txt
	@if $(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(VENV)/uv-lock.txt 2>/dev/null; then \
	    echo "installing $(LOCK) with uv"; \
	    $(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode $(LOCK) && \
	    $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .; \
	else \
	    echo "uv unavailable; installing $(LOCK) with pip"; \
	    $(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(LOCK) && \
	    $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .; \
	fi
	@$(BIN)/python -m compileall -q s3forensics > /dev/null
	@touch $(STAMP)

# Re-resolves the lock from pyproject.toml on purpose (for Python 3.11+, any platform, with
# hashes), keeping the versions already locked where they still fit; review the diff, then
# `make install`. `make lock LOCK_ARGS=--upgrade` takes the newest versions the pins allow.
LOCK_ARGS ?=
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	    --generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_ARGS) -o $(LOCK)

# The suite runs on pytest-xdist workers, file by file: all the tests of one module run on
# one worker, so each notebook (whose default run one module reads) executes once. Three
# workers on two cores: a worker waiting on a notebook's kernel or the sandbox leaves the CPU
# to the others (measured: 2 workers 4 min 21 s, 3 workers 3 min 42 s, 4 workers 4 min 17 s).
PYTEST_WORKERS ?= 3
PYTEST_XDIST   := -n $(PYTEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

# The edit-test loop: unit tests only (no sandbox, no notebook, no browser).
test-fast: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_XDIST) -m "not sandbox and not slow and not chromium" $(PYTEST_ARGS)

# ruff, pinned in the lock and configured in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .

# Rewrites tests/queries/golden/*.sql from the queries as they render now: review the diff.
goldens: $(STAMP)
	S3F_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q -p no:xdist tests/queries/test_queries_render.py -k golden

# The same suite with the clock a year ahead, for this one command only (Debian's faketime):
# nothing may depend on the date it runs.
FUTURE ?= +365d
test-future: $(STAMP)
	faketime -f '$(FUTURE)' $(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/s3forensics demo

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean-reports:
	rm -rf reports

distclean: clean-reports
	rm -rf $(VENV) .s3forensics
