"""One provider answer, translated: `ProviderReply`, what every adapter call returns.

Its own module beside the seam (`_adapter.py` re-exports it, `payrouter.provider` publishes
it): the outcome, the failure kind, the provider's figures and advice, and the class methods
adapters build it with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from ._actions import NextAction
from ._money import Money
from ._taxonomy import DECLINE_TYPES, Advice, DeclineType, FailureKind, Outcome

__all__ = ["ProviderReply"]


@dataclass(frozen=True, slots=True)
class ProviderReply:
    """One provider answer, already translated into the three outcomes.

    Build it with the class methods; a `FAILED` reply must carry its `FailureKind`, and a
    failure of kind `UNKNOWN_OUTCOME` is normalized to the `UNKNOWN` outcome.
    """

    outcome: Outcome
    failure_kind: FailureKind | None = None
    provider_reference: str | None = None
    provider_code: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    action_url: str | None = None
    message: str | None = None
    amount: Money | None = None
    """What the provider says it took or authorised, when its answer says (a payment's pay
    answer or lookup): the router settles a payment only when it is the charge's amount."""
    decline: DeclineType | None = None
    """For a decline: soft or hard. Left out, the kind's row in `DECLINE_TYPES` decides."""
    advice: Advice | None = None
    """The network's or provider's advice on retrying this card, when the answer gives one."""
    advice_code: str | None = None
    """The advice as the provider gave it (`network_advice_code:03`, `merchantAdviceCode:21`),
    kept with the attempt for whoever must explain a retry or its absence."""
    action: NextAction | None = None
    """What the customer's browser must do for a `requires_action` reply, as the provider's
    client SDK takes it. Left out, an `action_url` becomes a redirect action; given, its URL
    is the `action_url`."""
    key_spent: bool = False
    """The provider keeps under this idempotency key an answer that is not the operation's
    outcome (Stripe's saved 500, replayed), and the operation is known not done: a resend
    under the same key would only repeat that answer, so a follow-up goes again under a new
    key. Only for an `UNKNOWN` reply."""

    def __post_init__(self) -> None:
        if self.outcome is Outcome.FAILED and self.failure_kind is None:
            raise ValueError("a FAILED reply needs a failure_kind")
        default = DECLINE_TYPES.get(self.failure_kind) if self.failure_kind else None
        if self.decline is not None and default is None:
            raise ValueError(f"a {self.failure_kind} reply is no decline: it has no decline type")
        if self.decline is None and default is not None and self.outcome is Outcome.FAILED:
            object.__setattr__(self, "decline", default)
        if self.failure_kind is FailureKind.UNKNOWN_OUTCOME and self.outcome is Outcome.FAILED:
            object.__setattr__(self, "outcome", Outcome.UNKNOWN)
        if self.outcome is Outcome.UNKNOWN and self.failure_kind is None:
            object.__setattr__(self, "failure_kind", FailureKind.UNKNOWN_OUTCOME)
        if self.outcome not in (Outcome.FAILED, Outcome.UNKNOWN) and self.failure_kind:
            raise ValueError(f"a {self.outcome} reply cannot carry a failure_kind")
        if self.outcome is Outcome.PARTIALLY_AUTHORISED and self.amount is None:
            raise ValueError("a partially_authorised reply needs the authorised amount")
        if self.key_spent and self.outcome is not Outcome.UNKNOWN:
            raise ValueError("only an unknown outcome leaves a key spent")
        self._settle_action()

    def _settle_action(self) -> None:
        """One action, one URL: each fills the other where the adapter gave only one."""
        if self.action is not None and self.outcome is not Outcome.REQUIRES_ACTION:
            raise ValueError(f"a {self.outcome} reply cannot carry an action")
        if self.action is None and self.action_url and self.outcome is Outcome.REQUIRES_ACTION:
            object.__setattr__(self, "action", NextAction.redirect(self.action_url))
        elif self.action and self.action.kind == "redirect" and self.action_url is None:
            object.__setattr__(self, "action_url", self.action.url)

    @classmethod
    def succeeded(
        cls,
        provider_reference: str,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
        amount: Money | None = None,
    ) -> Self:
        """The provider took the payment (or confirmed the follow-up); `amount` is what it
        says it took, when it says."""
        return cls(
            Outcome.SUCCEEDED,
            provider_reference=provider_reference,
            provider_code=provider_code,
            http_status=http_status,
            amount=amount,
        )

    @classmethod
    def partially_authorised(
        cls,
        provider_reference: str,
        amount: Money,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
    ) -> Self:
        """The issuer authorised only `amount` of the charge: the router checks that it is a
        part (same currency, less) and the payment becomes `partially_authorised`."""
        return cls(
            Outcome.PARTIALLY_AUTHORISED,
            provider_reference=provider_reference,
            provider_code=provider_code,
            http_status=http_status,
            amount=amount,
        )

    @classmethod
    def pending(
        cls,
        provider_reference: str,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
    ) -> Self:
        """Accepted; it settles later (bank transfers, asynchronous wallets)."""
        return cls(
            Outcome.PENDING,
            provider_reference=provider_reference,
            provider_code=provider_code,
            http_status=http_status,
        )

    @classmethod
    def requires_action(
        cls,
        provider_reference: str,
        action_url: str | None,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
        action: NextAction | None = None,
    ) -> Self:
        """The customer must approve, authenticate or be redirected; no money moved yet.
        `action` says how, for a client SDK; a bare `action_url` is a redirect."""
        return cls(
            Outcome.REQUIRES_ACTION,
            provider_reference=provider_reference,
            action_url=action_url,
            provider_code=provider_code,
            http_status=http_status,
            action=action,
        )

    @classmethod
    def failed(
        cls,
        kind: FailureKind,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        provider_reference: str | None = None,
        message: str | None = None,
        decline: DeclineType | None = None,
        advice: Advice | None = None,
        advice_code: str | None = None,
    ) -> Self:
        """Definitely failed with `kind` (an `UNKNOWN_OUTCOME` kind becomes `unknown`); a
        decline may say whether it is soft or hard, and carry the network's advice."""
        return cls(
            Outcome.FAILED,
            failure_kind=kind,
            provider_code=provider_code,
            http_status=http_status,
            retry_after=retry_after,
            provider_reference=provider_reference,
            message=message,
            decline=decline,
            advice=advice,
            advice_code=advice_code,
        )

    @classmethod
    def unknown(
        cls,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
        provider_reference: str | None = None,
        message: str | None = None,
    ) -> Self:
        """The money may have moved; the router will look the payment up before anything else."""
        return cls(
            Outcome.UNKNOWN,
            provider_code=provider_code,
            http_status=http_status,
            provider_reference=provider_reference,
            message=message,
        )
