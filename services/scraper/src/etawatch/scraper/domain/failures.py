"""Why a run failed, as an exception the robot raises and the run turns into ``ScrapeRunFailed``."""

from etawatch.contracts.messages import FailureReason


class ScrapeFailure(Exception):  # noqa: N818 - the domain word
    """The run cannot go on: ``reason`` goes into ``ScrapeRunFailed``, ``message`` says why."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.message}"


class TransientError(Exception):
    """Worth another try after a pause: a timeout, an HTTP 5xx, a table whose data did not load.

    ``reason`` is what the run fails with once the retries are used up.
    """

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
