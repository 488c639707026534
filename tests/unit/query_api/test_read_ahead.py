"""How the rebuild's reading process is started."""

import sys
import threading

import pytest

from etawatch.query_api.adapters.read_ahead import start_method


@pytest.mark.skipif(sys.platform != "linux", reason="fork is the choice where the system has it")
def test_forked_while_this_process_runs_one_thread_else_spawned() -> None:
    assert threading.active_count() == 1
    assert start_method() == "fork"
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_method() == "spawn"  # a fork would copy the locks the other may hold
    finally:
        stop.set()
        other.join()
    assert start_method() == "fork"
