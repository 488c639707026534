"""The test suite's logging is put back after a test that sets it up (tests/conftest.py)."""

import io
import logging

from etawatch.runtime.log import configure_logging

BEFORE: dict[str, object] = {}


def test_a_test_sets_logging_up_into_a_buffer() -> None:
    root = logging.getLogger()
    BEFORE["handlers"] = list(root.handlers)
    configure_logging(fmt="json", stream=io.StringIO())
    assert root.handlers != BEFORE["handlers"]


def test_the_next_test_finds_the_root_logger_as_it_was() -> None:
    assert "handlers" in BEFORE, "runs after the test above"
    assert logging.getLogger().handlers == BEFORE["handlers"]
