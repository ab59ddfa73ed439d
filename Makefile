# The two commands: `make demo` and `make test`. Both run `make setup` first.
.PHONY: setup demo test lint unit integration drill-tests up down status

VENV := .venv/bin
SHELL := /bin/bash
# The drill tests stop and kill parts of their stack, so they get a stack of their own beside the
# main suite's: its own home and every port + 3000 (2525..26381 become 5525..29381). Below the
# kernel's ephemeral range (32768+), where a client connection may hold any port for a while, and
# clear of every port of a stack at offset 0 or 10000..20000 (none lands on another's port).
# $$PWD, not $(CURDIR): the stack fixture fails on any process whose command line names the
# stack's home after it stopped, and make's own shell would.
DRILLS_STACK := SOUNDCHECK_HOME="$$PWD/.soundcheck-drills" SOUNDCHECK_PORT_OFFSET=3000

setup:
	@bash soundcheck/setup.sh

demo: setup
	$(VENV)/soundcheck demo

# The main suite and the drill tests run at the same time, each on its own stack; the drills'
# lines are prefixed [drills]. The unit tests (no services) run after the drills, in their
# invocation: it ended ~10 minutes before the main suite's, whose time is CI's. Fails if either
# fails; the drills' stack is stopped at the end.
test: setup lint
	@set -o pipefail; \
	( $(DRILLS_STACK) $(VENV)/pytest tests/drills tests/unit 2>&1 \
		| sed -u 's/^/[drills] /' ) & \
	drills=$$!; \
	$(VENV)/pytest tests --ignore=tests/drills --ignore=tests/unit; main=$$?; \
	wait $$drills; drill_tests=$$?; \
	$(DRILLS_STACK) $(VENV)/soundcheck down > /dev/null 2>&1; \
	echo "main suite exit $$main, drill tests exit $$drill_tests"; \
	test $$main -eq 0 -a $$drill_tests -eq 0

drill-tests: setup
	$(DRILLS_STACK) $(VENV)/pytest tests/drills --durations=0; status=$$?; \
	$(DRILLS_STACK) $(VENV)/soundcheck down > /dev/null 2>&1; exit $$status

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

unit: setup
	$(VENV)/pytest tests/unit

integration: setup
	$(VENV)/pytest tests/integration --ignore=tests/drills

up: setup
	$(VENV)/soundcheck up

down:
	$(VENV)/soundcheck down

status:
	$(VENV)/soundcheck status
