"""What a service publishes, declared on its broker so that its AsyncAPI document shows it.

Publishing itself goes through ``RabbitBus``; these declarations only describe it (persistent,
mandatory, CloudEvents JSON): one FastStream publisher per message, with the exchange, the
routing key (``{supplier}`` and ``{partition}`` stand for a word of the key) and the envelope
with that message as payload.
"""

from dataclasses import dataclass

from faststream.rabbit import RabbitBroker

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope
from etawatch.runtime.rabbit import CONTENT_TYPE, exchange


@dataclass(frozen=True)
class Publication:
    """A message a service publishes, and where."""

    message: type[Message]
    exchange: str
    routing_key: str
    description: str


def declare_publications(broker: RabbitBroker, publications: tuple[Publication, ...]) -> None:
    """Register one publisher per publication; nothing connects, nothing is sent."""
    for publication in publications:
        model = publication.message
        broker.publisher(
            routing_key=publication.routing_key,
            exchange=exchange(publication.exchange),
            persist=True,
            mandatory=True,
            content_type=CONTENT_TYPE,
            message_type=model.ce_type(),
            title=model.TYPE,
            description=publication.description,
            schema=Envelope[model],  # type: ignore[valid-type]
        )
