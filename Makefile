# The two commands of the README. Both do all of their own set-up.
.PHONY: demo test setup setup-demo lint typecheck schemas asyncapi docs

DEMO_ARGS ?=
PYTEST_ARGS ?=

# scripts/setup.sh installs uv with `pip install --user` when it is missing: the recipes after it
# must find it there too, on a machine whose PATH does not name the user's script folder.
export PATH := $(HOME)/.local/bin:$(PATH)

demo: setup-demo
	uv run etawatch demo $(DEMO_ARGS)

test: setup lint typecheck
	uv run pytest $(PYTEST_ARGS)

setup:
	@./scripts/setup.sh

# The embedded demo needs no PostgreSQL or RabbitMQ: its set-up does not ask for them.
setup-demo:
	@ETAWATCH_SKIP_SERVICE_CHECK=1 ./scripts/setup.sh

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
