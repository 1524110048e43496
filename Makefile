# Daira: every target bootstraps its own virtual environment from the pinned requirements.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
GEN    := gen
PROTOS := $(shell find protos -name '*.proto')
GEN_STAMP := $(GEN)/.generated

.PHONY: all venv protos lint typecheck breaking test test-fast run bench clean

all: test

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'daira.pth').write_text('$(CURDIR)\n$(CURDIR)/$(GEN)\n')"
	touch $@

venv: $(STAMP)

# Python messages, gRPC stubs and .pyi type stubs for every proto, in one step.
$(GEN_STAMP): $(STAMP) $(PROTOS)
	rm -rf $(GEN) && mkdir -p $(GEN)
	$(PY) -m grpc_tools.protoc -Iprotos \
		--python_out=$(GEN) --grpc_python_out=$(GEN) \
		--mypy_out=$(GEN) --mypy_grpc_out=$(GEN) \
		--plugin=protoc-gen-mypy=$(BIN)/protoc-gen-mypy \
		--plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc \
		$(PROTOS)
	touch $@

protos: $(GEN_STAMP)

lint: $(GEN_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/buf lint

typecheck: $(GEN_STAMP)
	$(BIN)/mypy shared services bench

# Protos stay compatible with the last release tag, or the previous commit without one.
breaking: $(STAMP)
	@against=$$(git describe --tags --abbrev=0 2>/dev/null || git rev-parse -q --verify HEAD~1); \
	if [ -z "$$against" ]; then echo "buf breaking: no release tag or previous commit to compare with"; \
	else echo "buf breaking against $$against"; $(BIN)/buf breaking --against ".git#ref=$$against"; fi

test: lint typecheck breaking
	$(BIN)/pytest -n 2 --dist loadfile

run: $(GEN_STAMP)
	$(PY) -m shared.runner

bench: $(GEN_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(GEN) .run/test .pytest_cache .mypy_cache .ruff_cache
