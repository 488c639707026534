"""The notifier's outcomes, for its AsyncAPI document (published through ``RabbitBus``)."""

from etawatch.contracts import topology
from etawatch.contracts.messages import CustomerNotified, NotificationFailed
from etawatch.runtime.asyncapi import Publication

PUBLICATIONS = (
    Publication(
        CustomerNotified,
        topology.NOTIFICATIONS_EXCHANGE,
        topology.RK_CUSTOMER_NOTIFIED,
        "An email about an order was accepted by the mail server.",
    ),
    Publication(
        NotificationFailed,
        topology.NOTIFICATIONS_EXCHANGE,
        topology.RK_NOTIFICATION_FAILED,
        "The notifier gave up on an email about an order, with the reason.",
    ),
)
