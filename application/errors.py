"""Application-level failures that are not domain refusals."""


class ServiceBusy(Exception):
    """A command kept colliding with concurrent writers or the store is unavailable;
    nothing was recorded and the client may retry."""

    def __init__(self, message: str = "The service is busy; retry shortly.") -> None:
        super().__init__(message)


def store_unavailable(error: BaseException) -> ServiceBusy:
    """The answer to a storage failure (a ServiceBusy passes through as it is)."""
    if isinstance(error, ServiceBusy):
        return error
    return ServiceBusy(f"The event store is unavailable: {error}")


class RateLimited(Exception):
    """Too many calls of one kind from one workspace; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
