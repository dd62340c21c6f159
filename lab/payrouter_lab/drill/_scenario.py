"""Drill scenarios: a YAML file validated by pydantic, and the built-in ones.

A scenario says who the customers are, how fast they arrive, which providers the router
has (by adapter type, pointed at the sandbox), and which faults hit which provider when.
Faults use the sandbox's own fault vocabulary (`payrouter_lab.sandbox` `FaultSpec`), so every
cause the field knows is a line of YAML, not code.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from payrouter import ConfigurationError, FeeRule, PaymentMethod, RouterSettings, Strategy

from ..sandbox import FaultKind, FaultSpec
from ._credentials import check_shares
from ._customers import Approvals

__all__ = [
    "CustomerMix",
    "DrillFault",
    "DrillProvider",
    "Scenario",
    "builtin_scenarios",
    "load_scenario",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
ProviderType = Literal["stripe", "adyen", "paypal", "berlingroup"]


class DrillProvider(BaseModel):
    """A provider of the router under test; the drill points its adapter at the sandbox."""

    model_config = _FROZEN

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
    type: ProviderType
    methods: list[PaymentMethod] = Field(min_length=1)
    options: dict[str, Any] = Field(
        default_factory=dict, description="Adapter options beyond the sandbox defaults."
    )
    fees: list[FeeRule] = Field(
        default_factory=list, description="What it charges; the report adds up fees paid."
    )


class DrillFault(BaseModel):
    """One fault window on one provider, in seconds from the drill's start.

    Every other key is passed to the sandbox as its `FaultSpec` (e.g. `probability`,
    `payer_prefix`, `status`, `retry_after_seconds`, `delay_seconds`, `processed`).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    provider: str
    kind: FaultKind = Field(description="A sandbox fault kind: busy, down, maintenance, ...")
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    start: float = Field(default=0.0, ge=0)
    end: float | None = Field(default=None, gt=0, description="Omit for the whole drill.")
    label: str | None = None

    @model_validator(mode="after")
    def _sandbox_takes_it(self) -> Self:
        """Check the fault as the sandbox will, so a typo is a scenario error, not an HTTP 422
        in the middle of a run."""
        try:
            FaultSpec.model_validate(self.spec())
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in issue['loc']) or 'fault'}: {issue['msg']}"
                for issue in error.errors(include_input=False)
            )
            raise ValueError(problems) from None
        return self

    def spec(self) -> dict[str, Any]:
        """The sandbox `FaultSpec` body, window relative to when it is posted."""
        extra = dict(self.model_extra or {})
        body: dict[str, Any] = {
            "kind": self.kind.value,
            "probability": self.probability,
            "starts_in_seconds": self.start,
            **extra,
        }
        if self.end is not None:
            body["duration_seconds"] = self.end - self.start
        return body

    @property
    def title(self) -> str:
        return self.label or f"{self.provider} {self.kind}"


class CustomerMix(BaseModel):
    """A share of customers offering these methods, in this order of preference."""

    model_config = _FROZEN

    weight: float = Field(gt=0)
    sources: list[PaymentMethod] = Field(min_length=1)


class Scenario(BaseModel):
    """A drill: traffic, providers and faults. `payrouter drill FILE.yaml` runs one."""

    model_config = _FROZEN

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    description: str = ""
    seed: int = 7
    duration_seconds: float = Field(default=10.0, gt=0, le=300)
    rate_per_second: float = Field(default=150.0, gt=0, le=2000)
    bucket_seconds: float = Field(default=1.0, gt=0)
    currency: str = "EUR"
    countries: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] = ["DE", "FR", "NL"]
    customers: list[CustomerMix] = Field(min_length=1)
    frozen_wallet_share: float = Field(default=0.0, ge=0, le=1)
    empty_wallet_share: float = Field(default=0.0, ge=0, le=1)
    providers: list[DrillProvider] = Field(min_length=1)
    faults: list[DrillFault] = []
    router: RouterSettings = RouterSettings(deadline_seconds=5.0, lease_seconds=30.0)
    routing: dict[PaymentMethod, Strategy] = Field(
        default_factory=dict, description="Per method, how the router under test orders them."
    )
    approvals: Approvals | None = Field(
        default=None,
        description="Play customers sent to approve (approve or abandon after a think time).",
    )
    baseline_provider: str | None = Field(
        default=None, description="The single-provider baseline's provider; default: first."
    )
    credentials: dict[str, float] | None = Field(
        default=None,
        description="Shares of cards by where they are tokenized: <type>_only, both, "
        "network_token (`_credentials`); default: every card at the first card provider.",
    )

    @model_validator(mode="after")
    def _references_exist(self) -> Self:
        names = {provider.name for provider in self.providers}
        for index, fault in enumerate(self.faults):
            if fault.provider not in names:
                raise ValueError(
                    f"faults[{index}].provider {fault.provider!r} is not one of {sorted(names)}"
                )
            if fault.end is not None and fault.end <= fault.start:
                raise ValueError(f"faults[{index}]: end must be after start")
        if self.baseline_provider is not None and self.baseline_provider not in names:
            raise ValueError(f"baseline_provider {self.baseline_provider!r} is not a provider")
        if self.credentials is not None:
            problem = check_shares(self.credentials, [kind for _, kind in self.card_providers])
            if problem is not None:
                raise ValueError(f"credentials: {problem}")
        return self

    @property
    def card_providers(self) -> list[tuple[str, str]]:
        """(name, type) of every card provider, in the scenario's order."""
        return [(p.name, p.type) for p in self.providers if PaymentMethod.CARD in p.methods]

    @property
    def credential_shares(self) -> dict[str, float]:
        """The scenario's shares, or every card at the first card provider."""
        if self.credentials is not None:
            return dict(self.credentials)
        cards = self.card_providers
        return {f"{cards[0][1]}_only": 1.0} if cards else {}

    @property
    def payments(self) -> int:
        return int(self.duration_seconds * self.rate_per_second)


def load_scenario(source: str | Path) -> Scenario:
    """A scenario from a YAML file path, or the name of a built-in one.

    Raises:
        ConfigurationError: unknown name, unreadable file, or invalid content naming the field.
    """
    builtin = builtin_scenarios()
    if isinstance(source, str) and source in builtin:
        return builtin[source]
    path = Path(source)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigurationError(
            f"cannot read scenario {path}: {error.strerror}; built-in scenarios: "
            f"{', '.join(sorted(builtin))}"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path} is not valid YAML: {error}") from None
    return _validate(raw, str(path))


def _validate(raw: object, origin: str) -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        raise ConfigurationError.from_validation(error, f"scenario {origin}") from None


def builtin_scenarios() -> dict[str, Scenario]:
    """Every scenario shipped in `payrouter_lab/drill/scenarios/`, by name."""
    found: dict[str, Scenario] = {}
    for entry in resources.files(__package__).joinpath("scenarios").iterdir():
        if entry.name.endswith(".yaml"):
            scenario = _validate(yaml.safe_load(entry.read_text()), entry.name)
            found[scenario.name] = scenario
    return found
