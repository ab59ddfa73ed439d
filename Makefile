# The two commands: `make demo` and `make test`. Both run `make setup` first.
.PHONY: setup demo test lint unit integration up down status

VENV := .venv/bin

setup:
	@bash soundcheck/setup.sh

demo: setup
	$(VENV)/soundcheck demo

test: setup lint
	$(VENV)/pytest tests

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

unit: setup
	$(VENV)/pytest tests/unit

integration: setup
	$(VENV)/pytest tests/integration

up: setup
	$(VENV)/soundcheck up

down:
	$(VENV)/soundcheck down

status:
	$(VENV)/soundcheck status
