# Two commands on a fresh machine: `make demo` (the main job) and `make test` (everything CI runs).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
PYTHON  := $(BIN)/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
TORCH   := torch==2.14.1 torchvision==0.29.1
HW      ?= optimizers
DEVICE  ?= cpu
OUT     ?= build/results
TOPICS  := $(notdir $(patsubst %/,%,$(dir $(wildcard assignments/*/assignment.toml))))

STUDENT ?= build/student

.PHONY: setup demo test release snapshots student grade check mutants bench notebook-times lint clean gradescope term-demo

setup: $(STAMP)

$(STAMP):
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q $(TORCH)
	$(PYTHON) -m pip install -q -e '.[dev,notebook,instructors]'
	rm -f $(VENV)/.installed-* && touch $@

demo: setup
	$(PYTHON) scripts/demo.py $(HW)

test: setup
	$(BIN)/ruff check autograder shared tests scripts
	$(PYTHON) -m pytest -q -n auto --dist loadgroup

release: setup
	$(PYTHON) -m autograder release $(TOPICS)

snapshots: setup
	$(PYTHON) -m autograder snapshots $(TOPICS)

# What students get: released notebooks and a wheel (check runtime, course utilities, public tests), no answers.
student: setup
	$(PYTHON) -m autograder release --student $(STUDENT)

# make grade HW=optimizers SUBMISSIONS=<notebook or folder of submissions> [DEVICE=cuda]
grade: setup
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade HW=<topic> SUBMISSIONS=<notebook or folder>"; exit 2)
	$(PYTHON) -m autograder grade $(HW) $(SUBMISSIONS) --device $(DEVICE) --out $(OUT)/$(HW)

gradescope: setup
	$(PYTHON) -m autograder gradescope $(HW)

# make check NB=assignments/optimizers/optimizers.ipynb
check: setup
	$(PYTHON) -m autograder check $(or $(NB),assignments/$(HW)/$(HW).ipynb)

mutants: setup
	$(PYTHON) -m autograder mutants $(HW)

term-demo: setup  # every instructor command on a synthetic class: build/term-demo/index.html
	$(PYTHON) scripts/term_demo.py

bench: setup
	$(PYTHON) scripts/bench.py $(HW)

# Each solution notebook run as a student would (full size; SMOKE=1 for the tiny size), timed per cell.
notebook-times: setup
	$(PYTHON) scripts/notebook_times.py $(if $(SMOKE),--smoke) $(T)

lint: setup
	$(BIN)/ruff check autograder shared tests scripts

clean:
	rm -rf build .cache .pytest_cache
