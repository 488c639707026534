# The two commands of the README. Both do all of their own set-up.
.PHONY: demo test setup lint typecheck schemas asyncapi docs

DEMO_ARGS ?=
PYTEST_ARGS ?=

# scripts/setup.sh installs uv with `pip install --user` when it is missing: the recipes after it
# must find it there too, on a machine whose PATH does not name the user's script folder.
export PATH := $(HOME)/.local/bin:$(PATH)

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
