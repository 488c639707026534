"""The closed set of availability states a supplier item can be in."""

from enum import StrEnum


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    PRE_ORDER = "pre_order"
    DELAYED = "delayed"
    SOLD_OUT = "sold_out"
    DISCONTINUED = "discontinued"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """The item will not come: the customer has to decide what to do."""
        return self in (Availability.SOLD_OUT, Availability.DISCONTINUED)
