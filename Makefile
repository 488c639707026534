# The two commands of the README. Both do all of their own set-up.
.PHONY: demo test setup lint typecheck schemas asyncapi docs

DEMO_ARGS ?=
PYTEST_ARGS ?=

demo: setup
	uv run etawatch demo $(DEMO_ARGS)

test: setup lint typecheck
	uv run pytest $(PYTEST_ARGS)

setup:
	@./scripts/setup.sh

lint:
	uv run ruff check .
	uv run ruff format --check .

typecheck:
	uv run mypy

schemas:
	uv run python -m etawatch.contracts.schemas --write

asyncapi:
	uv run python -m etawatch.allinone.asyncapi --write

docs:
	uv run etawatch docs
