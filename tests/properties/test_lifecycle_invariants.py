"""Stateful property test of the line-request lifecycle (SPEC §2, §3, §6).

The machine drives the application services (not HTTP) with the sandbox adapters on a
SQLite file. Every invariant is computed from the event log: `LogAudit` folds the global
notification log on its own (with the SPEC's plan table, not the domain's), and the checks
reload aggregates through the repository and the event store.

Invariant 2 is checked at admission: each Requested event must carry the billing the SPEC
gives for the workspace's plan, override and held slots at that point of the log (a plan
downgrade may later leave more lines held than the new plan allows, which is no violation).

Run with `--hypothesis-show-statistics` to see which paths the examples reached.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import hypothesis.strategies as st
import msgspec
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from sqlalchemy import select

from adapters.config import Settings
from adapters.sandbox_billing import InvoiceNotPayable
from adapters.schema import sandbox_invoices
from api import render
from api.bootstrap import build
from application.usage import UsageItem
from application.views import LineView, view_of
from domain.decisions import LineDetails
from domain.enums import (
    Billing,
    Channel,
    LineState,
    LineType,
    PaymentStatus,
    Plan,
    RequestSource,
)
from domain.errors import (
    ChannelNotAvailable,
    DomainError,
    IdempotencyConflict,
    InvalidOverride,
    InvalidTransition,
    InvalidValue,
    LineLimitReached,
    MissingLineDetails,
    PaymentPending,
    SubscriptionRequired,
)
from domain.ids import line_request_id
from domain.line_request import LineRequest
from domain.workspace import Workspace
from projections.schema import line_usage, line_views
from tests.support.fakes import FakeClock

WORKSPACES = ("ws_a", "ws_b", "ws_c")
KEYS = ("k1", "k2")
# Few bodies, so that a reused Idempotency-Key is often a replay and often a conflict.
BODIES = (
    (Channel.PHONE, "Ana", None),
    (Channel.EMAIL, "Ana", None),
    (Channel.PHONE, "Bo", "+12025550100"),
    (Channel.EMAIL, "Bo", None),
)
REQUEST_REFUSALS = (
    SubscriptionRequired,
    ChannelNotAvailable,
    PaymentPending,
    LineLimitReached,
    IdempotencyConflict,
)
HOLDING = {LineState.AWAITING_PAYMENT, LineState.PROVISIONING, LineState.ACTIVE}
TERMINAL = {LineState.ACTIVE, LineState.FAILED, LineState.CANCELED}
REPLAY = "replay"

# SPEC §2 read as data: (included, max), max None = unlimited paid add-ons.
SPEC_PLANS: dict[tuple[Plan, Channel], tuple[int, int | None]] = {
    (Plan.MINI, Channel.PHONE): (0, 0),
    (Plan.MINI, Channel.EMAIL): (1, None),
    (Plan.STARTER, Channel.PHONE): (1, 1),
    (Plan.STARTER, Channel.EMAIL): (0, None),
    (Plan.GROWTH, Channel.PHONE): (2, None),
    (Plan.GROWTH, Channel.EMAIL): (0, None),
}


# --- an independent fold of the whole event log ----------------------------------------


@dataclass
class WsModel:
    plan: Plan
    active: bool
    overrides: dict[Channel, tuple[int | None, int | None]] = field(default_factory=dict)

    def allowance(self, channel: Channel) -> tuple[int, int | None]:
        included, limit = SPEC_PLANS[(self.plan, channel)]
        if channel in self.overrides:
            o_included, o_max = self.overrides[channel]
            included = included if o_included is None else o_included
            if o_max is not None:
                limit = max(o_max, included)
            elif limit is not None:
                limit = max(limit, included)
        return included, limit


@dataclass
class ReqModel:
    workspace_id: str
    channel: Channel
    billing: Billing
    fingerprint: str
    phone: str | None
    state: LineState | None
    payment: PaymentStatus
    invoice_id: str | None = None


class LogAudit:
    """Folds the notification log incrementally and asserts, event by event, the rules
    that the log must show: admission decisions (inv. 2), one awaiting payment per
    workspace (inv. 1), legal transitions only (inv. 3) and Paid before provisioning an
    add-on (inv. 5)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.position = 0
        self.workspaces: dict[UUID, WsModel] = {}
        self.ws_names: dict[str, UUID] = {}
        self.requests: dict[UUID, ReqModel] = {}
        self.admitted: dict[UUID, tuple[Channel, Billing]] = {}

    def sync(self) -> None:
        while True:
            notes = self.app.recorder.select_notifications(
                self.position, 500, inclusive_of_start=False
            )
            for n in notes:
                self.apply(self.app.mapper.to_domain_event(n))
                self.position = n.id
            if len(notes) < 500:
                return

    # --- queries of the folded state ---------------------------------------------------

    def ws(self, name: str) -> WsModel:
        return self.workspaces[self.ws_names[name]]

    def held(self, name: str, channel: Channel) -> int:
        return sum(
            1
            for r in self.requests.values()
            if r.workspace_id == name and r.channel is channel and r.state in HOLDING
        )

    def awaiting(self, name: str) -> list[UUID]:
        return [
            rid
            for rid, r in self.requests.items()
            if r.workspace_id == name and r.state is LineState.AWAITING_PAYMENT
        ]

    def ids(self, pred: Callable[[ReqModel], bool]) -> list[UUID]:
        """In log order: request ids are random, so only their order is reproducible."""
        return [rid for rid, r in self.requests.items() if pred(r)]

    def decision(self, name: str, channel: Channel) -> Billing | type[DomainError]:
        """SPEC §2: how a new request is decided, or the refusal expected."""
        ws = self.ws(name)
        if not ws.active:
            return SubscriptionRequired
        included, limit = ws.allowance(channel)
        if limit == 0:
            return ChannelNotAvailable
        if self.awaiting(name):
            return PaymentPending
        held = self.held(name, channel)
        if held < included:
            return Billing.INCLUDED
        if limit is None or held < limit:
            return Billing.ADDON
        return LineLimitReached

    def expect(self, cmd: LineDetails) -> Billing | type[DomainError] | str:
        if cmd.idempotency_key is not None:
            first = self.requests.get(line_request_id(cmd.workspace_id, cmd.idempotency_key))
            if first is not None:
                return REPLAY if first.fingerprint == cmd.fingerprint() else IdempotencyConflict
        return self.decision(cmd.workspace_id, cmd.channel)

    # --- the fold ------------------------------------------------------------------------

    def apply(self, e: Any) -> None:
        kind = type(e).__qualname__
        if kind.startswith("Workspace."):
            self.apply_workspace(kind.removeprefix("Workspace."), e)
        elif kind.startswith("LineRequest."):
            self.apply_request(kind.removeprefix("LineRequest."), e)
            for name in self.ws_names:
                assert len(self.awaiting(name)) <= 1, f"inv 1: {name} has two awaiting payment"

    def apply_workspace(self, kind: str, e: Any) -> None:
        if kind == "Created":
            self.workspaces[e.originator_id] = WsModel(e.plan, e.subscription_active)
            self.ws_names[e.workspace_id] = e.originator_id
            return
        ws = self.workspaces[e.originator_id]
        if kind == "PlanChanged":
            ws.plan = e.plan
        elif kind == "SubscriptionChanged":
            ws.active = e.active
        elif kind == "OverrideSet":
            if e.included is None and e.max is None:
                ws.overrides.pop(e.channel, None)
            else:
                ws.overrides[e.channel] = (e.included, e.max)
        elif kind == "LineAdmitted":
            self.admitted[e.request_id] = (e.channel, e.billing)

    def apply_request(self, kind: str, e: Any) -> None:
        rid = e.originator_id
        if kind == "Requested":
            assert rid not in self.requests
            decided = self.decision(e.workspace_id, e.channel)
            assert decided is e.billing, f"inv 2: admitted as {e.billing}, SPEC says {decided}"
            assert self.admitted.pop(rid, None) == (e.channel, e.billing), "no LineAdmitted"
            addon = e.billing is Billing.ADDON
            self.requests[rid] = ReqModel(
                workspace_id=e.workspace_id,
                channel=e.channel,
                billing=e.billing,
                fingerprint=e.fingerprint,
                phone=e.phone,
                state=LineState.AWAITING_PAYMENT if addon else None,
                payment=PaymentStatus.PENDING if addon else PaymentStatus.NOT_REQUIRED,
            )
            return
        r = self.requests[rid]
        before = r.state
        if kind == "ProvisioningStarted":
            if before is LineState.AWAITING_PAYMENT:
                assert r.payment is PaymentStatus.PAID, "inv 5: provisioning without Paid"
            else:
                assert before is None and r.billing is Billing.INCLUDED, f"started from {before}"
            r.state = LineState.PROVISIONING
        elif kind in ("Activated", "ProvisioningFailed"):
            assert before is LineState.PROVISIONING, f"{kind} from {before}"
            r.state = LineState.ACTIVE if kind == "Activated" else LineState.FAILED
        elif kind == "Canceled":
            assert before is LineState.AWAITING_PAYMENT, f"Canceled from {before}"
            r.state, r.payment = LineState.CANCELED, PaymentStatus.VOID
        elif kind == "Paid":
            assert before in (LineState.AWAITING_PAYMENT, LineState.CANCELED), f"Paid in {before}"
            assert r.payment not in (PaymentStatus.PAID, PaymentStatus.REFUNDED), "paid twice"
            r.payment, r.invoice_id = PaymentStatus.PAID, e.invoice_id
        elif kind == "Refunded":
            assert r.payment is PaymentStatus.PAID, f"refund of {r.payment}"
            assert before in (LineState.FAILED, LineState.CANCELED), f"refund in {before}"
            r.payment = PaymentStatus.REFUNDED
        elif kind == "Invoiced":
            assert r.invoice_id is None, "invoiced twice"
            r.invoice_id = e.invoice_id


def command(ws: str, body: tuple[Channel, str, str | None], key: str | None) -> LineDetails:
    channel, first, phone = body
    return LineDetails(
        workspace_id=ws,
        channel=channel,
        line_type=LineType.PURCHASED,
        first_name=first,
        last_name="Doe",
        email=f"{first.lower()}@example.test" if channel is Channel.EMAIL else None,
        phone=phone if channel is Channel.PHONE else None,
        source=RequestSource.API,
        idempotency_key=key,
    )


def fold(events: list[Any]) -> Any:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def configure(req: LineRequest, url: str) -> list[Any]:
    req.configure_server(url)
    return [req]


def limits(req: LineRequest, new: int | None, total: int | None) -> list[Any]:
    req.change_limits(new, total)
    return [req]


def comparable(view: LineView) -> dict[str, Any]:
    """Every field a read shows, except usage (its own projection) and the price (not a
    column: reads never show it)."""
    shown = msgspec.structs.asdict(view)
    for name in ("usage_date", "usage_new_conversations", "usage_total_messages"):
        shown.pop(name)
    shown.pop("price_amount")
    shown.pop("currency")
    return shown


def key_state(req: LineRequest) -> tuple[Any, ...]:
    return (
        req.version,
        req.state,
        req.payment_status,
        req.billing,
        req.channel,
        req.invoice_id,
        req.invoice_voided,
        req.amount_paid,
        req.refund_id,
    )


# --- the machine ------------------------------------------------------------------------


class LifecycleMachine(RuleBasedStateMachine):
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="tuco-props-")
        try:
            self.s = build(
                Settings(
                    database_url=f"sqlite:///{self.dir}/t.db",
                    public_url="http://t",
                    sandbox_provision_seconds=0,
                ),
                clock=FakeClock(),
            )
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)  # no teardown without __init__
            raise
        # The app snapshots a Workspace every 100 events; every 3 here, so that commands
        # and checks also load workspaces from snapshots.
        self.s.app.snapshotting_intervals = {Workspace: 3}
        self.audit = LogAudit(self.s.app)
        self.terminal: dict[UUID, LineState] = {}
        self.keyed: dict[UUID, LineDetails] = {}  # recorded requests with an Idempotency-Key
        self.checked: dict[str, int] = {}
        self.folded: dict[UUID, int] = {}
        self.loaded_at = -1
        self.loaded_requests: dict[UUID, LineRequest] = {}

    def teardown(self) -> None:
        self.s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers -----------------------------------------------------------------------

    def head(self) -> int:
        return self.s.app.recorder.max_notification_id() or 0

    def attempt(
        self, fn: Callable[[], Any], *refusals: type[Exception]
    ) -> tuple[Any, Exception | None]:
        """Run a command; a refusal (inv. 7) must have recorded nothing."""
        before = self.head()
        try:
            return fn(), None
        except refusals as e:
            assert self.head() == before, f"{type(e).__name__} refused but recorded events"
            return None, e

    def changed(self, check: str) -> bool:
        """Whether the log grew since `check` last ran (a log-only check cannot change its
        answer otherwise; refusals record nothing, so this skips most re-checks)."""
        head = self.head()
        if self.checked.get(check) == head:
            return False
        self.checked[check] = head
        return True

    def loaded(self) -> dict[UUID, LineRequest]:
        """Every request reloaded through the repository, once per log position."""
        self.audit.sync()
        if self.audit.position != self.loaded_at:
            self.loaded_at = self.audit.position
            self.loaded_requests = {
                rid: self.s.app.repository.get(rid) for rid in self.audit.requests
            }
        return self.loaded_requests

    def model(self, rid: UUID) -> ReqModel:
        """A copy of the request as the log shows it now."""
        self.audit.sync()
        return replace(self.audit.requests[rid])

    def draw_request(self, data: st.DataObject, pred: Callable[[ReqModel], bool]) -> UUID:
        return data.draw(st.sampled_from(self.audit.ids(pred)))

    def has(self, pred: Callable[[ReqModel], bool]) -> bool:
        self.audit.sync()
        return bool(self.audit.ids(pred))

    def invoice(self, invoice_id: str) -> Any:
        t = sandbox_invoices.c
        with self.s.database.read_engine.connect() as conn:
            return conn.execute(select(sandbox_invoices).where(t.id == invoice_id)).one()

    # --- setup -------------------------------------------------------------------------

    @initialize(
        target=requests,
        plans=st.lists(st.sampled_from(Plan), min_size=3, max_size=3),
        first=st.lists(st.tuples(st.sampled_from(WORKSPACES), st.sampled_from(BODIES)), max_size=4),
    )
    def create_workspaces(
        self, plans: list[Plan], first: list[tuple[str, tuple[Channel, str, str | None]]]
    ) -> Any:
        """The workspaces, and a few first requests (so that every example has some)."""
        for name, plan in zip(WORKSPACES, plans, strict=True):
            self.s.workspaces.create(name, plan, name, True)
        created = [self.submit(command(ws, body, None)) for ws, body in first]
        return multiple(*(rid for rid in created if rid is not None))

    # --- line requests -----------------------------------------------------------------

    @rule(
        target=requests,
        ws=st.sampled_from(WORKSPACES),
        body=st.sampled_from(BODIES),
        key=st.none() | st.sampled_from(KEYS),
    )
    def request_line(self, ws: str, body: tuple[Channel, str, str | None], key: str | None) -> Any:
        created = self.submit(command(ws, body, key))
        return multiple() if created is None else multiple(created)

    def submit(self, cmd: LineDetails) -> UUID | None:
        """Request a line; checks the answer against the SPEC's decision. Returns the id
        of a newly recorded request."""
        self.audit.sync()
        expected = self.audit.expect(cmd)
        awaiting = self.audit.awaiting(cmd.workspace_id)
        before = self.head()
        view, error = self.attempt(lambda: self.s.requests.request_line(cmd), *REQUEST_REFUSALS)
        event(f"request: {type(error).__name__ if error else expected}")
        if error is not None:
            assert type(error) is expected, f"refused {error!r}, expected {expected}"
            if isinstance(error, PaymentPending):
                assert [error.request_id] == awaiting
            return None
        assert isinstance(view, LineView)
        if expected == REPLAY:
            assert self.head() == before, "an idempotent replay recorded events"
            assert view.id == line_request_id(cmd.workspace_id, cmd.idempotency_key)
            return None
        assert view.billing is expected, f"decided {view.billing}, SPEC says {expected}"
        if expected is Billing.ADDON:
            assert view.state is LineState.AWAITING_PAYMENT and view.payment_url is not None
        else:
            assert view.state is LineState.PROVISIONING and view.payment_url is None
        if cmd.idempotency_key is not None:
            self.keyed[view.id] = cmd
        return view.id

    @precondition(lambda self: self.keyed)
    @rule(data=st.data(), same_body=st.booleans())
    def resubmit_with_key(self, data: st.DataObject, same_body: bool) -> None:
        """The same Idempotency-Key again: a replay creates nothing, another body conflicts."""
        cmd = self.keyed[data.draw(st.sampled_from(list(self.keyed)))]
        self.submit(cmd if same_body else replace(cmd, last_name="Other"))

    @rule(req=requests)
    def cancel(self, req: UUID) -> None:
        r = self.model(req)
        _, error = self.attempt(
            lambda: self.s.requests.cancel(r.workspace_id, req, "test"), InvalidTransition
        )
        assert (error is None) == (r.state is LineState.AWAITING_PAYMENT), error
        if error is None:
            event(f"cancel: then payment {self.model(req).payment.value}")

    @precondition(lambda self: self.has(lambda r: r.state is LineState.AWAITING_PAYMENT))
    @rule(data=st.data())
    def cancel_awaiting(self, data: st.DataObject) -> None:
        """Cancel what is awaiting payment (its invoice may already be paid, webhook lost)."""
        self.cancel(self.draw_request(data, lambda r: r.state is LineState.AWAITING_PAYMENT))

    @rule(req=requests, phone=st.sampled_from([None, "+12025550199"]))
    def activate(self, req: UUID, phone: str | None) -> None:
        r = self.model(req)
        _, error = self.attempt(
            lambda: self.s.provisioning.activate(req, phone, None, "manual"),
            InvalidTransition,
            MissingLineDetails,
        )
        if r.state is not LineState.PROVISIONING:
            assert isinstance(error, InvalidTransition), error
        elif r.channel is Channel.PHONE and phone is None and r.phone is None:
            assert isinstance(error, MissingLineDetails), error
        else:
            assert error is None

    @rule(req=requests)
    def fail(self, req: UUID) -> None:
        r = self.model(req)
        _, error = self.attempt(
            lambda: self.s.provisioning.fail(req, "carrier said no"), InvalidTransition
        )
        assert (error is None) == (r.state is LineState.PROVISIONING), error
        if error is None:
            event(f"fail: then payment {self.model(req).payment.value}")

    @rule(
        req=requests,
        url=st.sampled_from(
            ["http://127.0.0.1:9/line", "https://lines.example/x", "ftp://x", "http://u:p@h/"]
        ),
    )
    def configure_server(self, req: UUID, url: str) -> None:
        """An operator sets where the line's health is probed (any live state; a malformed
        or credentialed URL is refused and records nothing)."""
        r = self.model(req)
        _, error = self.attempt(
            lambda: self.s.app.change_request(req, lambda q, ws: configure(q, url)),
            InvalidTransition,
            InvalidValue,
        )
        if r.state in (LineState.FAILED, LineState.CANCELED):
            assert isinstance(error, InvalidTransition), error
        elif url.startswith("ftp") or "@" in url:
            assert isinstance(error, InvalidValue), error
        else:
            assert error is None, error

    @rule(
        req=requests,
        new=st.none() | st.sampled_from([0, 7, 2**31 - 1, 2**31, 10**23, -1]),
        total=st.none() | st.sampled_from([0, 150, 2**31 - 1, 2**31]),
    )
    def change_limits(self, req: UUID, new: int | None, total: int | None) -> None:
        """Daily limits: within what the database stores, or refused with nothing recorded."""
        _, error = self.attempt(
            lambda: self.s.app.change_request(req, lambda q, ws: limits(q, new, total)),
            InvalidValue,
        )
        in_range = all(v is None or 0 <= v <= 2**31 - 1 for v in (new, total))
        assert (error is None) == in_range, error

    # --- payments ----------------------------------------------------------------------

    def pay_open_invoice(self, data: st.DataObject) -> tuple[UUID, str]:
        rid = self.draw_request(data, lambda r: r.state is LineState.AWAITING_PAYMENT)
        invoice_id = self.s.app.line_request(rid).invoice_id
        assert invoice_id is not None, "an add-on answered without its invoice"
        before = self.head()
        self.s.billing.pay(invoice_id)  # type: ignore[attr-defined]
        assert self.head() == before, "paying at the provider alone recorded events"
        return rid, invoice_id

    @precondition(lambda self: self.has(lambda r: r.state is LineState.AWAITING_PAYMENT))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        """The customer pays on the sandbox page, which notifies like a webhook."""
        rid, invoice_id = self.pay_open_invoice(data)
        self.s.billing_events.invoice_changed(invoice_id)
        after = self.model(rid)
        assert (after.state, after.payment) == (LineState.PROVISIONING, PaymentStatus.PAID)

    @precondition(lambda self: self.has(lambda r: r.state is LineState.AWAITING_PAYMENT))
    @rule(data=st.data(), reconcile=st.booleans())
    def pay_webhook_lost(self, data: st.DataObject, reconcile: bool) -> None:
        """Paid with `notify=false`; maybe recovered at once through `payment_link`, else
        later (worker, cancel, webhook redelivery, payment_link rule)."""
        rid, _ = self.pay_open_invoice(data)
        event(f"webhook lost, reconciled at once: {reconcile}")
        if reconcile:
            self.s.requests.payment_link(self.audit.requests[rid].workspace_id, rid)
            assert self.model(rid).state is LineState.PROVISIONING

    @rule(req=requests)
    def payment_link(self, req: UUID) -> None:
        """Recover the link; reconciles a payment whose webhook was lost."""
        r = self.model(req)
        _, error = self.attempt(
            lambda: self.s.requests.payment_link(r.workspace_id, req), InvalidTransition
        )
        refused = r.state in (LineState.CANCELED, LineState.FAILED)
        assert (error is not None) == refused, error
        if r.state is LineState.AWAITING_PAYMENT and self.invoice(r.invoice_id).status == "paid":
            assert self.model(req).state is LineState.PROVISIONING, "paid invoice not reconciled"

    @precondition(lambda self: self.has(lambda r: r.invoice_id is not None))
    @rule(data=st.data())
    def webhook_redelivered(self, data: st.DataObject) -> None:
        """At-least-once delivery: an `invoice.paid` for any invoice, any time."""
        rid = self.draw_request(data, lambda r: r.invoice_id is not None)
        self.s.billing_events.invoice_changed(self.audit.requests[rid].invoice_id or "")

    @precondition(lambda self: self.has(lambda r: r.state is LineState.CANCELED))
    @rule(data=st.data())
    def late_payment(self, data: st.DataObject) -> None:
        """The customer pays the invoice of a canceled request (open, void or paid)."""
        rid = self.draw_request(data, lambda r: r.state is LineState.CANCELED)
        invoice_id = self.s.app.line_request(rid).invoice_id
        if invoice_id is None:
            return
        try:
            self.s.billing.pay(invoice_id)  # type: ignore[attr-defined]
        except InvoiceNotPayable:
            assert self.invoice(invoice_id).status == "void"
        self.s.billing_events.invoice_changed(invoice_id)
        event(f"late payment: invoice {self.invoice(invoice_id).status}")
        if self.invoice(invoice_id).status == "paid":
            assert self.model(rid).payment is PaymentStatus.REFUNDED, "late payment not refunded"

    @precondition(lambda self: self.has(lambda r: r.state is LineState.AWAITING_PAYMENT))
    @rule(data=st.data())
    def provider_voids_invoice(self, data: st.DataObject) -> None:
        """The invoice is voided at the provider (`invoice.voided`): the request is canceled,
        unless the invoice was paid first (lost webhook), then that payment is recorded."""
        rid = self.draw_request(data, lambda r: r.state is LineState.AWAITING_PAYMENT)
        invoice_id = self.audit.requests[rid].invoice_id or ""
        self.s.billing.void_invoice(invoice_id)
        self.s.billing_events.invoice_changed(invoice_id)
        paid = self.invoice(invoice_id).status == "paid"
        expected = LineState.PROVISIONING if paid else LineState.CANCELED
        assert self.model(rid).state is expected

    # --- operators and the worker --------------------------------------------------------

    @rule(ws=st.sampled_from(WORKSPACES), plan=st.sampled_from(Plan))
    def set_plan(self, ws: str, plan: Plan) -> None:
        self.s.workspaces.set_plan(ws, plan)

    @rule(ws=st.sampled_from(WORKSPACES), active=st.booleans())
    def set_subscription(self, ws: str, active: bool) -> None:
        self.s.workspaces.set_subscription(ws, active)

    @rule(
        ws=st.sampled_from(WORKSPACES),
        channel=st.sampled_from(Channel),
        included=st.none() | st.integers(0, 3),
        limit=st.none() | st.integers(0, 4),
    )
    def set_override(
        self, ws: str, channel: Channel, included: int | None, limit: int | None
    ) -> None:
        _, error = self.attempt(
            lambda: self.s.workspaces.set_override(ws, channel, included, limit), InvalidOverride
        )
        invalid = included is not None and limit is not None and limit < included
        assert (error is not None) == invalid, error

    @rule()
    def run_worker(self) -> None:
        """One sweep. With a 0 s sandbox provisioner, every line that was provisioning
        when the sweep began is active after it (one paid during the sweep waits for the
        next sweep)."""
        self.audit.sync()
        provisioning = self.audit.ids(lambda r: r.state is LineState.PROVISIONING)
        self.s.worker.run_once()
        self.audit.sync()
        after = [self.audit.requests[rid].state for rid in provisioning]
        assert all(s is LineState.ACTIVE for s in after), "the sandbox (0 s) left lines behind"

    @rule(req=requests, batch=st.sampled_from(["b1", "b2", "b3"]), new=st.booleans())
    def report_usage(self, req: UUID, batch: str, new: bool) -> None:
        """Usage for any line; a re-sent batch id is recorded once (a no-op the second time)."""
        before = self.head()
        item = UsageItem(req, self.s.clock.now(), new, 2)
        duplicate, _ = self.s.usage.record(batch, [item])
        assert duplicate == (self.head() == before)

    @rule()
    def rebuild_read_models(self) -> None:
        """Inv. 4: every read model, rebuilt from position 0, equals the one kept live."""
        self.s.read_model.catch_up()
        before = self.read_model_rows()
        for target in ("lines", "usage"):
            self.s.rebuilder(target).rebuild()
        assert self.read_model_rows() == before

    def read_model_rows(self) -> list[list[tuple[Any, ...]]]:
        with self.s.database.read_engine.connect() as conn:
            return [
                [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in (line_views, line_usage)
            ]

    # --- invariants, from the event log ------------------------------------------------

    @invariant()
    def log_respects_the_rules(self) -> None:
        """Inv. 1, 2, 5 and legal transitions, asserted event by event in LogAudit."""
        self.audit.sync()

    @invariant()
    def state_is_the_fold_of_events(self) -> None:
        """Inv. 3: repository state == a fresh fold == the audit's fold; terminal stays."""
        if not self.changed("fold"):
            return
        for rid, loaded in self.loaded().items():
            model = self.audit.requests[rid]
            assert (loaded.state, loaded.payment_status) == (model.state, model.payment)
            if self.folded.get(rid) != loaded.version:  # new events: fold them afresh
                assert key_state(loaded) == key_state(fold(list(self.s.app.events.get(rid))))
                self.folded[rid] = loaded.version
            if rid in self.terminal:
                assert loaded.state is self.terminal[rid], "a terminal state changed"
            elif loaded.state in TERMINAL:
                self.terminal[rid] = loaded.state

    @invariant()
    def workspace_agrees_with_its_requests(self) -> None:
        """The Workspace's held counts and awaiting pointer match its requests' states."""
        if not self.changed("workspace"):
            return
        for name, ws_id in self.audit.ws_names.items():
            ws: Workspace = self.s.app.repository.get(ws_id)
            mine = [req for req in self.loaded().values() if req.workspace_id == name]
            for channel in Channel:
                held = sum(1 for r in mine if r.channel is channel and r.holds_slot)
                assert ws.held_slots(channel) == held, f"{name} {channel.value} held"
            awaiting = [r.id for r in mine if r.state is LineState.AWAITING_PAYMENT]
            assert [ws.awaiting_payment] == (awaiting or [None]), f"{name} awaiting pointer"

    @invariant()
    def read_model_agrees(self) -> None:
        """After every step, once caught up, the projection holds for every request exactly
        the row a fresh fold of its events gives (every column the API shows, owed work
        included), and GET by id renders the same LINE as the list."""
        if not self.changed("read model"):
            return
        self.audit.sync()
        self.s.read_model.catch_up()
        now = self.s.clock.now()
        for name in self.audit.ws_names:
            listed = {v.id: v for v in self.s.read_model.list_lines(name)}
            mine = self.audit.ids(lambda r, n=name: r.workspace_id == n)
            assert set(listed) == set(mine)
            for rid in mine:
                folded = view_of(fold(list(self.s.app.events.get(rid))))
                assert comparable(listed[rid]) == comparable(folded), rid
                got = self.s.requests.get(name, rid)
                assert render.line(got, now) == render.line(listed[rid], now), rid

    @invariant()
    def payments_are_matched_and_nothing_owed(self) -> None:
        """Inv. 6 on the sandbox: a paid invoice belongs to a request that is provisioned
        (or not yet told), or refunded; the sandbox is always up, so no step is owed."""
        self.audit.sync()
        with self.s.database.read_engine.connect() as conn:
            invoices = list(conn.execute(select(sandbox_invoices)))
        for inv in invoices:
            r = self.audit.requests[UUID(inv.request_id)]
            assert r.invoice_id == inv.id
            assert (inv.refund_id is not None) == (r.payment is PaymentStatus.REFUNDED)
            if inv.status == "paid" and r.state is not LineState.AWAITING_PAYMENT:
                assert r.payment in (PaymentStatus.PAID, PaymentStatus.REFUNDED), inv.id
        for rid, req in self.loaded().items():
            assert not (req.needs_invoice or req.needs_void or req.refund_due), rid


LifecycleMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLifecycle = LifecycleMachine.TestCase
