"""Base class of every contract model."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class ContractModel(BaseModel):
    """Frozen, strict about unknown fields: a message says exactly what its schema says."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(ContractModel):
    """A message that travels on its own in an envelope.

    ``TYPE`` is the stable name of the message (without version); ``VERSION`` is the version of
    the current model. The CloudEvents ``type`` attribute is ``f"{TYPE}.v{VERSION}"``.
    """

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def ce_type(cls) -> str:
        return f"{cls.TYPE}.v{cls.VERSION}"
