"""The ledger wired to the in-process bus, as the all-in-one demo wires it."""

import datetime as dt

from etawatch_testing.ledger import NOW, RunScript, new_ledger, placed, publish_command, publish_run

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, open_as
from etawatch.contracts.messages import ETAChanged
from etawatch.contracts.topology import NOTIFIER_CHANGES
from etawatch.ledger.application.store import LedgerStore
from etawatch.runtime.bus import InMemoryBus


async def test_observations_and_commands_through_the_in_process_bus() -> None:
    bus = InMemoryBus([NOTIFIER_CHANGES])
    ledger = new_ledger(LedgerStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    ledger.wire(bus, batch_size=7)
    changes: list[ETAChanged] = []

    async def notifier(envelope: Envelope[Message]) -> None:
        changes.append(open_as(envelope.model_dump(mode="json"), ETAChanged).data)

    bus.consume(NOTIFIER_CHANGES.name, notifier)
    await publish_command(bus, placed("A-1", ["S1", "S7"]))
    skus = {f"S{i}": "Q2 2027" for i in range(20)}
    await publish_run(bus, RunScript(skus))
    await bus.drain()
    await publish_run(bus, RunScript({**skus, "S7": "Q4 2027"}, at=NOW + dt.timedelta(hours=1)))
    await bus.drain()
    assert await ledger.relay_once(bus) == 1
    await bus.drain()
    assert [c.sku for c in changes] == ["S7"]
    assert ledger.stats.runs_compared == 2 * ledger.options.partitions
    assert bus.dead_letters == []
