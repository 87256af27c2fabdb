# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv when missing, installs the pinned dependencies once
# (uv when it can be had, pip otherwise), and reuses the environment after.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.s3forensics-installed
UV_VERSION := 0.13.9
# The kit's working folder (sandbox state, Parquet cache, audit log) stays in the clone.
export S3FORENSICS_HOME ?= $(CURDIR)/.s3forensics

.PHONY: demo test install bench lint clean-reports distclean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)" 2>/dev/null; then \
	    echo "installing with uv"; \
	    $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'; \
	else \
	    echo "uv unavailable; installing with pip"; \
	    $(BIN)/python -m pip install --quiet -e '.[dev]'; \
	fi
	@touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/s3forensics demo

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean-reports:
	rm -rf reports

distclean: clean-reports
	rm -rf $(VENV) .s3forensics
