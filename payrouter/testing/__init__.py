"""Tools for testing code that uses payrouter: the testing switch, simulated providers, and
a scripted provider to put under an adapter.

`SimulatedProvider` keeps its own books of money actually taken; assert against those, not
against the router's ledger, to prove that no order was charged twice. `ScriptedProvider` is
an httpx transport answering an adapter's requests from a script of `HttpAnswer`s; the
adapter conformance suite built on it is `payrouter.testing.conformance` (needs pytest).
"""

from .._testmode import set_testing
from ._adapter import SimulatedAdapter
from ._scripted import HttpAnswer, ScriptedProvider, UnscriptedRequestError
from ._simulator import Behavior, BookEntry, FollowUpEntry, SimulatedProvider

__all__ = [
    "Behavior",
    "BookEntry",
    "FollowUpEntry",
    "HttpAnswer",
    "ScriptedProvider",
    "SimulatedAdapter",
    "SimulatedProvider",
    "UnscriptedRequestError",
    "set_testing",
]
