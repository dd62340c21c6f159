"""Tools for testing code that uses payrouter: the testing switch and simulated providers.

`SimulatedProvider` keeps its own books of money actually taken; assert against those, not
against the router's ledger, to prove that no order was charged twice.
"""

from .._testmode import set_testing
from ._adapter import SimulatedAdapter
from ._simulator import Behavior, BookEntry, FollowUpEntry, SimulatedProvider

__all__ = [
    "Behavior",
    "BookEntry",
    "FollowUpEntry",
    "SimulatedAdapter",
    "SimulatedProvider",
    "set_testing",
]
