"""The query API's order commands, for its AsyncAPI document (published through ``RabbitBus``)."""

from etawatch.contracts import topology
from etawatch.contracts.messages import OrderClosed, OrderPlaced
from etawatch.runtime.asyncapi import Publication

PUBLICATIONS = (
    Publication(
        OrderPlaced,
        topology.ORDERS_EXCHANGE,
        topology.RK_ORDER_PLACED,
        "The shop placed a pre-order: its lines are watched from now on.",
    ),
    Publication(
        OrderClosed,
        topology.ORDERS_EXCHANGE,
        topology.RK_ORDER_CLOSED,
        "The shop closed an order: its customer is told nothing more about it.",
    ),
)
