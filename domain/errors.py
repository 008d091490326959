"""Domain errors: each refusal has its own class, raised before any event is recorded."""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """Base of every refusal the domain can make."""

    param: str | None = None


class SubscriptionRequired(DomainError):
    def __init__(self, workspace_id: str) -> None:
        super().__init__(f"Workspace {workspace_id} has no active subscription.")


class ChannelNotAvailable(DomainError):
    param = "requestedChannelType"

    def __init__(self, channel: str, plan: str) -> None:
        super().__init__(f"{channel.capitalize()} lines are not available on the {plan} plan.")


class LineLimitReached(DomainError):
    param = "requestedChannelType"

    def __init__(self, channel: str, limit: int) -> None:
        super().__init__(f"The workspace already holds its maximum of {limit} {channel} lines.")


class PaymentPending(DomainError):
    def __init__(self, request_id: UUID) -> None:
        self.request_id = request_id
        super().__init__(f"Line request {request_id} is awaiting payment; pay or cancel it first.")


class InvalidTransition(DomainError):
    def __init__(self, action: str, state: str) -> None:
        self.action = action
        self.state = state
        super().__init__(f"Cannot {action} a line request that is {state}.")


class IdempotencyConflict(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request body.")


class NotFound(DomainError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"No {what} {ident} was found.")


class WorkspaceExists(DomainError):
    def __init__(self, workspace_id: str) -> None:
        super().__init__(f"Workspace {workspace_id} already exists.")


class InvalidValue(DomainError):
    """A value outside what the domain accepts or the database can store (422)."""

    def __init__(self, param: str | None, message: str) -> None:
        self.param = param
        super().__init__(message)


class InvalidOverride(InvalidValue):
    pass


class MissingLineDetails(InvalidValue):
    pass


class LineNotCheckable(DomainError):
    def __init__(self, request_id: object, why: str) -> None:
        super().__init__(f"Line {request_id} cannot be health-checked: {why}.")


class InvalidLimits(InvalidValue):
    pass
