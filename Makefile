# Two commands on a fresh machine: `make demo` (the main job) and `make test` (everything CI runs).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
PYTHON  := $(BIN)/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
TORCH   := torch==2.14.1 torchvision==0.29.1
HW      ?=
TOPIC   := $(or $(HW),optimizers)
DEVICE  ?= cpu
OUT     ?= build/results
TOPICS  := $(notdir $(patsubst %/,%,$(dir $(wildcard assignments/*/assignment.toml))))

STUDENT ?= build/student

.PHONY: setup demo test validate new-topic release snapshots student grade check mutants bench notebook-times lint clean gradescope term-demo

setup: $(STAMP)

$(STAMP):
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q $(TORCH)
	$(PYTHON) -m pip install -q -e '.[dev,notebook,instructors]'
	rm -f $(VENV)/.installed-* && touch $@

demo: setup
	$(PYTHON) scripts/demo.py $(TOPIC)

test: setup
	$(BIN)/ruff check autograder shared tests scripts
	$(PYTHON) -m pytest -q -n auto --dist loadgroup

# One topic's whole check: reference full, blank zero, mutants caught and told apart (diagnoses), variants full,
# release, snapshots and diagnoses in sync, its notebook from the student bundle, its Gradescope zip, its
# reference against oracles.
validate: setup
	@test -n "$(HW)" || (echo "usage: make validate HW=<topic>"; exit 2)
	$(PYTHON) -m pytest -q -n auto --dist loadgroup tests/test_validation.py tests/test_diagnose.py \
	    tests/test_notebooks.py tests/test_gradescope.py $(wildcard tests/test_$(HW)_reference.py) -k "$(HW)"

# The files of a new assignment: an example question that already passes `make validate HW=<topic>`.
new-topic: setup
	@test -n "$(HW)" || (echo "usage: make new-topic HW=<topic>"; exit 2)
	$(PYTHON) -m autograder new-topic $(HW)

release: setup
	$(PYTHON) -m autograder release $(or $(HW),$(TOPICS))

snapshots: setup
	$(PYTHON) -m autograder snapshots $(or $(HW),$(TOPICS))

# What students get: released notebooks and a wheel (check runtime, course utilities, public tests), no answers.
student: setup
	$(PYTHON) -m autograder release --student $(STUDENT)

# make grade HW=optimizers SUBMISSIONS=<notebook or folder of submissions> [DEVICE=cuda]
grade: setup
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade HW=<topic> SUBMISSIONS=<notebook or folder>"; exit 2)
	$(PYTHON) -m autograder grade $(TOPIC) $(SUBMISSIONS) --device $(DEVICE) --out $(OUT)/$(TOPIC)

gradescope: setup
	$(PYTHON) -m autograder gradescope $(TOPIC)

# make check NB=assignments/optimizers/optimizers.ipynb
check: setup
	$(PYTHON) -m autograder check $(or $(NB),assignments/$(TOPIC)/$(TOPIC).ipynb)

mutants: setup
	$(PYTHON) -m autograder mutants $(TOPIC)

term-demo: setup  # every instructor command on a synthetic class: build/term-demo/index.html
	$(PYTHON) scripts/term_demo.py

bench: setup
	$(PYTHON) scripts/bench.py $(TOPIC)

# Each solution notebook run as a student would (full size; SMOKE=1 for the tiny size), timed per cell.
notebook-times: setup
	$(PYTHON) scripts/notebook_times.py $(if $(SMOKE),--smoke) $(T)

lint: setup
	$(BIN)/ruff check autograder shared tests scripts

clean:
	rm -rf build .cache .pytest_cache
