"""The provider seam, for adapter authors: what an adapter implements and what it answers with.

An adapter turns one provider's API into `ProviderReply` values classified by the failure
taxonomy (`FailureKind`, `Outcome`, the `POLICY` table). One that speaks HTTP subclasses
`HttpAdapter` (options, client, repr, `aclose`) and raises `UnsendableError` for what its
provider cannot take. Register a factory under the `payrouter.adapters` entry-point group and
name it in the config's `providers` list; the router never imports an adapter. The conformance
kit an adapter's tests run lives in `payrouter.testing`.
"""

from ._actions import NextAction
from ._adapter import (
    Adapter,
    AdapterFactory,
    Capabilities,
    Charge,
    CompletesApproval,
    CredentialRules,
    PaymentHandle,
    ProviderReply,
    Resolution,
    SubmitsDetails,
)
from ._config import adapters_from_config
from ._http_adapter import HttpAdapter, HttpOptions, UnsendableError
from ._public import present_as_public
from ._reconcile._records import ProviderRecord, RecordsNotReadyError, RecordsSource
from ._taxonomy import (
    DECLINE_TYPES,
    POLICY,
    Advice,
    DeclineType,
    FailureKind,
    FailurePolicy,
    Outcome,
    policy_for,
)
from ._vault import ForwardingVault, ForwardProxyVault

__all__ = [
    "DECLINE_TYPES",
    "POLICY",
    "Adapter",
    "AdapterFactory",
    "Advice",
    "Capabilities",
    "Charge",
    "CompletesApproval",
    "CredentialRules",
    "DeclineType",
    "FailureKind",
    "FailurePolicy",
    "ForwardProxyVault",
    "ForwardingVault",
    "HttpAdapter",
    "HttpOptions",
    "NextAction",
    "Outcome",
    "PaymentHandle",
    "ProviderRecord",
    "ProviderReply",
    "RecordsNotReadyError",
    "RecordsSource",
    "Resolution",
    "SubmitsDetails",
    "UnsendableError",
    "adapters_from_config",
    "policy_for",
]

present_as_public(__name__, __all__, globals())
