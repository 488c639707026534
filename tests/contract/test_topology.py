from etawatch.contracts import topology


def test_partition_is_stable_and_in_range() -> None:
    seen = {topology.partition_of("acme", f"SKU-{i}") for i in range(1000)}
    assert seen == set(range(topology.OBSERVATION_PARTITIONS))
    assert topology.partition_of("acme", "X") == topology.partition_of("acme", "X")


def test_every_queue_is_quorum_with_delivery_limit_and_dead_letter_queue() -> None:
    names = [q.name for q in topology.all_queues()]
    assert len(names) == len(set(names))
    for queue in topology.all_queues():
        args = queue.arguments
        assert args["x-queue-type"] == "quorum"
        assert args["x-delivery-limit"] >= 1
        assert args["x-dead-letter-exchange"] == topology.DEAD_LETTER_EXCHANGE
        assert queue.dlq_name == f"{queue.name}.dlq"
        for binding in queue.bindings:
            assert binding.exchange in topology.EXCHANGES


def test_observation_partitions_receive_run_events() -> None:
    queue = topology.ledger_observation_queue(2)
    keys = {b.routing_key for b in queue.bindings}
    assert "observed.p2.*" in keys
    assert "run.*.*" in keys
    assert queue.single_active_consumer
