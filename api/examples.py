"""Examples for /openapi.json, in the shapes of the published guide (the seed document)."""

from __future__ import annotations

from typing import Any

LINE_ID = "3f2c6a1e-8d4b-4b7a-9c1e-2a5d7f9b0c11"

LINE: dict[str, Any] = {
    "_id": LINE_ID,
    "workspaceId": "org_123",
    "firstName": "Sales",
    "lastName": "Team 1",
    "phone": "+12025551234",
    "email": "sales+1@example.com",
    "isActive": True,
    "provisioningStatus": "active",
    "paymentStatus": "paid",
    "requestSource": "api",
    "requestedChannelType": "email",
    "requestedLineType": "purchased",
    "paymentLinkUrl": None,
    "stripeInvoiceId": "in_123",
    "dailyNewConversationsLimit": 20,
    "dailyTotalMessagesLimit": 150,
    "usage": {"date": "2025-10-14", "newMessages": 3, "totalMessages": 42},
    "healthCheck": {"status": "healthy", "lastCheckedAt": "2025-10-14T10:00:00Z"},
    "createdAt": "2025-10-13T09:00:00Z",
    "updatedAt": "2025-10-14T10:00:00Z",
}

AWAITING_LINE = LINE | {
    "isActive": False,
    "provisioningStatus": "awaiting_payment",
    "paymentStatus": "pending",
    "paymentLinkUrl": "https://invoice.stripe.com/i/acct_123/test_456",
    "healthCheck": None,
    "usage": {"date": "2025-10-14", "newMessages": 0, "totalMessages": 0},
}

LINE_REQUEST_BODY = {
    "requestedChannelType": "email",
    "requestedLineType": "purchased",
    "firstName": "Sales",
    "lastName": "Team 1",
    "email": "sales+1@example.com",
}

LINE_REQUEST_ANSWER = {
    "status": "awaiting_payment",
    "line": AWAITING_LINE,
    "paymentUrl": AWAITING_LINE["paymentLinkUrl"],
}

ACTIVE_ANSWER = {"status": "active", "line": LINE, "paymentUrl": None}

EVENTS_ANSWER = {
    "events": [
        {
            "type": "Requested",
            "version": 1,
            "timestamp": "2025-10-13T09:00:00Z",
            "data": {"channel": "email", "first_name": "Sales", "last_name": "Team 1"},
        }
    ],
    "has_more": False,
}

AVAILABILITY_ANSWER = {
    "success": True,
    "lineId": LINE_ID,
    "status": "healthy",
    "failures": [],
    "checkedAt": "2025-10-14T10:30:00Z",
    "shouldNotify": False,
    "notificationSent": False,
}

USAGE_BODY = {
    "batchId": "msg-batch-2025-10-14T10:00",
    "items": [
        {"lineId": LINE_ID, "timestamp": "2025-10-14T10:00:00Z", "newConversation": True,
         "messages": 2},
    ],
}  # fmt: skip

USAGE_ANSWER = {
    "duplicate": False,
    "lines": [
        {"lineId": LINE_ID, "date": "2025-10-14", "newMessages": 4, "totalMessages": 44,
         "dailyNewConversationsLimit": 20, "dailyTotalMessagesLimit": 150, "withinLimits": True},
    ],
}  # fmt: skip

_MESSAGES = {
    "unauthorized": "The API key is not valid or has been revoked.",
    "forbidden": "This action is not allowed.",
    "not_found": f"No line request {LINE_ID} was found.",
    "invalid_signature": "The Stripe-Signature header does not match the payload.",
    "validation_error": "firstName must be at most 100 characters.",
    "subscription_required": "Workspace org_123 has no active subscription.",
    "channel_not_available": "Phone lines are not available on the mini plan.",
    "line_limit_reached": "The workspace already holds its maximum of 1 phone lines.",
    "payment_pending": f"Line request {LINE_ID} is awaiting payment; pay or cancel it first.",
    "invalid_transition": "Cannot cancel a line request that is active.",
    "idempotency_conflict": "Idempotency-Key 'k-1' was already used with a different request body.",
    "line_not_checkable": f"Line {LINE_ID} cannot be health-checked: it is not active.",
    "service_unavailable": "A service we depend on is unavailable; retry shortly.",
    "method_not_allowed": "DELETE is not allowed here; allowed: GET, HEAD, OPTIONS, POST.",
    "payload_too_large": "The body is larger than 65536 bytes.",
    "unsupported_media_type": "The body must be application/json.",
    "rate_limited": "Too many requests for this API key; retry later.",
    "request_timeout": "The request body did not arrive in time.",
}
_PARAMS = {
    "validation_error": "firstName",
    "channel_not_available": "requestedChannelType",
    "line_limit_reached": "requestedChannelType",
}

ERROR_EXAMPLES: dict[str, dict[str, Any]] = {
    code: {"code": code, "message": message}
    | ({"param": _PARAMS[code]} if code in _PARAMS else {})
    | ({"requestId": LINE_ID} if code == "payment_pending" else {})
    for code, message in _MESSAGES.items()
}
