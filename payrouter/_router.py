"""The router: the public face of payrouter — lifecycle, paying, reading, reconciling.

The decisions of one payment live in `_payment.py`; this class wires the adapters, ledger,
breakers and hooks together once, and keeps every public operation one short method.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from ._adapter import Adapter
from ._errors import (
    ConfigurationError,
    RouterClosedError,
)
from ._followups import FollowUps
from ._health._admission import Admission, watch_lag
from ._health._breakers import BreakerBoard
from ._health._maintenance import MaintenanceSchedule, MaintenanceWindow
from ._health._protection import Protection, ProviderLimits
from ._ledger import (
    Ledger,
    SqlLedger,
)
from ._models import PaymentMethod, PaymentRequest, PaymentResult, PaymentStatus
from ._paying._late import stop_reading_late_answers
from ._paying._payer import Payer
from .instrumentation._events import (
    Hook,
    LoggingHook,
)

if TYPE_CHECKING:
    from ._health._shared import SharedState
    from .webhooks import Receipt, WebhookEvent
from ._followups._surface import FollowUpMethods
from ._health._surface import HealthMethods
from ._ledger._books import DiscrepancyStats
from ._paying._replay import replays
from ._paying._routing import RoutingPolicy
from ._reconcile._ladder import calls_bounded_by
from ._reconcile._payments import ReconcileReport, reconcile, reconcile_payment
from ._reconcile._surface import RecordsMethods
from ._settings import RouterSettings
from ._testmode import is_testing

__all__ = ["Router"]


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


class Router(FollowUpMethods, RecordsMethods, HealthMethods):
    """Routes payments across providers; async first (`SyncRouter` wraps it for sync code).

    Use it as `async with Router(adapters, ledger="sqlite:///payments.db") as router:` or build
    it from a config file with `Router.from_config("payrouter.yaml")`.

    Args:
        adapters: the providers, in the merchant's order of preference.
        ledger: a database URL (SQLite file by default, PostgreSQL for many processes) or a
            ledger object.
        ledger_keys: keys sealing the requests kept for replays, the first seals, all open;
            default: a key file beside a SQLite file; a server ledger needs them (security.md).
        settings: deadlines, retries, breakers; safe defaults.
        hooks: receive every event; default: one stdlib log record per event. `()` silences.
        sleep: replaces `asyncio.sleep` for every wait the router makes (simulations).
        state: a Redis URL (`redis://host:6379/0`) to share breaker state with every worker
            process; None keeps it in this process. If Redis becomes unreachable the router
            goes on with its own state and says so once.
        limits: per provider name, its rate limit (token bucket) and bulkhead.
        maintenance: per provider name, its announced windows; traffic drains
            `settings.maintenance_drain_seconds` before each opens.
        routing: per provider its rules (card networks, tags, fees) and per method its
            ordering strategy (priority, lowest_cost, success_rate, weighted).
    """

    def __init__(
        self,
        adapters: Sequence[Adapter],
        *,
        ledger: str | Ledger,
        settings: RouterSettings | None = None,
        hooks: Sequence[Hook] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        state: str | None = None,
        limits: Mapping[str, ProviderLimits] | None = None,
        maintenance: Mapping[str, Sequence[MaintenanceWindow]] | None = None,
        routing: RoutingPolicy | None = None,
        ledger_keys: Sequence[str] | None = None,
    ) -> None:
        if not adapters:
            raise ConfigurationError("Router needs at least one adapter")
        names = [adapter.name for adapter in adapters]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigurationError(f"provider names must be unique; repeated: {duplicates}")
        for adapter in adapters:
            if not isinstance(adapter, Adapter):
                raise ConfigurationError(
                    f"{adapter!r} does not implement payrouter.Adapter (pay, lookup, capture, "
                    "refund, void, cancel_mandate, aclose, name, capabilities)"
                )
        self._adapters = tuple(adapters)
        self._by_name = {adapter.name: adapter for adapter in adapters}
        if ledger_keys is not None and not isinstance(ledger, str):
            raise ConfigurationError("ledger_keys go with a ledger URL, not a ledger object")
        self._ledger: Ledger = (
            SqlLedger(ledger, keys=ledger_keys) if isinstance(ledger, str) else ledger
        )
        self.settings = settings or RouterSettings()
        self._hooks: tuple[Hook, ...] = (LoggingHook(),) if hooks is None else tuple(hooks)
        self._shared = None if state is None else _shared_breakers(state, self._hooks)
        self._board = BreakerBoard(self.settings.breaker, self._hooks, self._shared)
        self._maintenance = MaintenanceSchedule(
            maintenance or {}, self.settings.maintenance_drain_seconds
        )
        self._protection = Protection(limits or {}, self.settings.retry_budget, shared=self._shared)
        self._fees = {
            name: rules.fees for name, rules in (routing.providers if routing else {}).items()
        }
        self._discrepancies = DiscrepancyStats(0, 0.0)
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        before_send = self.settings.deadline_seconds - self.settings.send_budget_seconds
        self._admission = Admission(self.settings.admission, budget_seconds=before_send / 2)
        self._lag_probe: asyncio.Task[None] | None = None
        self._sheds_flushed_at = time.monotonic()
        self._payer = Payer(
            adapters=self._adapters,
            ledger=self._ledger,
            settings=self.settings,
            hooks=self._hooks,
            board=self._board,
            protection=self._protection,
            maintenance=self._maintenance,
            sleep=sleep,
            owner=self._owner,
            routing=routing,
            admission=self._admission,
            take_over=self._take_over,
        )
        self._followups = FollowUps(
            ledger=self._ledger,
            adapters=self._by_name,
            board=self._board,
            maintenance=self._maintenance,
            settings=self.settings,
            hooks=self._hooks,
            sleep=sleep,
            owner=self._owner,
        )
        self._state = _State.NEW

    @classmethod
    def from_config(cls, path: str | Path, *, hooks: Sequence[Hook] | None = None) -> Router:
        """Build a router from a YAML or TOML file; adapters are found by their `type`.

        Raises:
            ConfigurationError: the file is missing or invalid; the message names the field.
        """
        from ._config import load_config

        config = load_config(path)
        return cls(
            config.build_adapters(),
            ledger=config.ledger_url(Path(path).parent),
            settings=config.router,
            hooks=hooks,
            state=config.state,
            limits=config.limits(),
            maintenance={p.name: p.maintenance for p in config.providers if p.maintenance},
            routing=config.routing_policy(),
            ledger_keys=config.ledger_keys,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the ledger (creating its tables); `async with` does this for you.

        If opening fails (an unopenable ledger, say), the router releases what it holds, its
        adapters' connections included, before the error propagates: it is then closed.
        """
        if self._state is _State.CLOSED:
            raise RouterClosedError("a closed router cannot be reopened: create a new one")
        if self._state is _State.NEW:
            try:
                await self._open_parts()
            except BaseException:
                await self._release_after_failed_open()
                raise
            self._state = _State.OPEN

    async def _open_parts(self) -> None:
        if isinstance(self._ledger, SqlLedger):  # before a replaying provider's first request
            self._ledger.sealing.require(replaying=any(map(replays, self._adapters)))
        await self._ledger.open()
        if self._shared is not None:
            for adapter in self._adapters:  # share every breaker and window it may use
                for method in adapter.capabilities.methods:
                    self._shared.watch((adapter.name, method))
            await self._shared.start()
        if self.settings.admission.enabled and not is_testing():
            # Under the testing switch the limit does not follow the machine's lateness:
            # a loaded test machine must not shed a test's payments.
            self._lag_probe = asyncio.create_task(
                watch_lag(
                    self._admission,
                    self.settings.admission.probe_interval_seconds,
                    every_round=self._flush_sheds_when_due,
                ),
                name="payrouter-lag-probe",
            )

    async def _release_after_failed_open(self) -> None:
        """Best effort: the open's own error is the one the caller needs to see."""
        self._state = _State.CLOSED
        await asyncio.gather(
            *(adapter.aclose() for adapter in self._adapters), return_exceptions=True
        )
        with contextlib.suppress(Exception):
            if self._shared is not None:
                await self._shared.close()
        with contextlib.suppress(Exception):
            await self._ledger.close()

    async def close(self) -> None:
        """Close adapters' connections and the ledger; the router cannot be reopened."""
        if self._state is _State.OPEN:
            if self._lag_probe is not None:
                self._lag_probe.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._lag_probe
            await self._flush_sheds()
            await stop_reading_late_answers(self._ledger)  # before their adapters close
            await asyncio.gather(*(adapter.aclose() for adapter in self._adapters))
            if self._shared is not None:
                await self._shared.close()
            await self._ledger.close()
        self._state = _State.CLOSED

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def apply_webhook(self, event: WebhookEvent) -> Receipt:
        """Apply one verified notification to the ledger, once, and only forwards.

        `payrouter.webhooks.WebhookReceiver` calls this after its `WebhookSource` verified the
        delivery; call it yourself only with events you verified. A payment event whose
        amount or currency differs from the payment's is not applied: it becomes an open
        discrepancy (`discrepancies()`) and is raised as `AmountMismatch`.

        Raises:
            NotificationDeferredError: the payment is being paid right now; apply it later.
        """
        self._require_open()
        from .webhooks._apply import apply

        return await apply(self._ledger, self._hooks, event)

    def _require_open(self) -> None:
        if self._state is not _State.OPEN:
            raise RouterClosedError(
                "the router is not open: use `async with Router(...)` or `await router.open()`"
            )

    # -- the public operations ---------------------------------------------------------------

    async def pay(self, request: PaymentRequest) -> PaymentResult:
        """Pay `request` once, whatever happens, across the eligible providers.

        Returns a result whose status is `succeeded`, `declined`, `pending` (money may have
        moved; reconcile or a webhook resolves it) or `requires_action` (send the customer to
        `action_url`). A second call with the same order id returns the first one's result.

        Raises:
            InvalidPaymentError: the amount is above `settings.max_amount_minor` for its
                currency; nothing was recorded or sent.
            IdempotencyConflictError: the order id was used with other money-relevant fields.
            PaymentInProgressError: another worker holds the order beyond our wait.
            NoEligibleProviderError: no provider can take this payment at all.
            AllProvidersUnavailableError: every eligible provider was busy, down or in
                maintenance; no money moved. `.healthy_methods` says what can work now.
                `CapacityExhaustedError`, a subclass: there was no capacity to call any
                provider, so none was called: every eligible one was at its rate limit or
                concurrency cap, or this process was shed at admission (too many payments in
                flight for how late it runs; then not even the ledger saw the payment).
            ProviderRejectedRequestError: a provider called the request invalid (a bug).
            LedgerUnavailableError: the ledger cannot be used (or did not answer within the
                deadline); no provider was called, nothing was charged. The message names
                the file or server and the fix.
            OutcomeNotRecordedError: a provider was called but its answer could not be
                written: it may have charged. Reconcile settles it; never retry it under
                another order id.
        """
        self._require_open()
        return await self._payer.pay(request)

    async def lookup(self, order_id: str) -> PaymentResult | None:
        """Where the payment for `order_id` stands in the ledger, or None if never paid."""
        self._require_open()
        return await self._ledger.get(order_id)

    async def _take_over(self, order_id: str, deadline: float) -> bool:
        """Resolve a crashed worker's payment at its own provider, if its lease ran out,
        answering within the retrying `pay`'s own deadline."""
        with calls_bounded_by(deadline):
            settled = await reconcile_payment(
                self._ledger, self._by_name, self.settings, self._owner, order_id, self._hooks
            )
        return settled is not None

    async def reconcile(self, *, limit: int = 1000) -> ReconcileReport:
        """Finish every payment left pending, awaiting action, or orphaned by a crash.

        Each open attempt is looked up at its own provider; no new charge is ever sent.
        """
        self._require_open()
        return await reconcile(
            self._ledger, self._by_name, self.settings, self._owner, limit=limit, hooks=self._hooks
        )

    async def refresh(
        self, order_id: str, *, details: Mapping[str, str] | None = None
    ) -> PaymentResult | None:
        """Ask the provider where a `pending` or `requires_action` payment stands now.

        Call it when the customer returns from a redirect (3-D Secure, wallet approval, bank
        SCA): the provider knows before any webhook arrives. Finished payments are returned
        as they are; a payment another worker is still paying is returned as it stands.
        `details` are the parameters the provider appended to the return URL (Adyen's
        `redirectResult`): a provider that finishes a challenge only with them
        (`SubmitsDetails`) gets them; other providers are asked as without them.
        """
        self._require_open()
        payment = await self._ledger.get(order_id)
        if payment is None or payment.status not in (
            PaymentStatus.PENDING,
            PaymentStatus.REQUIRES_ACTION,
        ):
            return payment
        settled = await reconcile_payment(
            self._ledger, self._by_name, self.settings, self._owner, order_id, self._hooks, details
        )
        if settled is None:  # another worker holds it: as it stands
            return await self._ledger.get(order_id)
        return settled

    def healthy_methods(self, request: PaymentRequest) -> tuple[PaymentMethod, ...]:
        """Methods that could take `request` right now (an eligible provider, breaker closed)."""
        return self._payer.healthy_methods(request)

    @property
    def adapters(self) -> tuple[Adapter, ...]:
        """The providers, in the merchant's order of preference."""
        return self._adapters


def _shared_breakers(url: str, hooks: Sequence[Hook]) -> SharedState:
    """Shared breakers on Redis; needs the `redis` extra, and says so when it is missing."""
    try:
        from ._health._shared import SharedState
    except ImportError as error:
        raise ConfigurationError(
            f"state={url!r} needs Redis support: pip install 'payrouter[redis]' ({error})"
        ) from None
    try:
        return SharedState(url, hooks=hooks)
    except ValueError as error:
        raise ConfigurationError(f"state: not a Redis URL ({error})") from None
