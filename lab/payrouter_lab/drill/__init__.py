"""Outage drills: replay a scenario's traffic through payrouter and two naive baselines.

`payrouter drill` runs one from the command line; `run_drill` is the same from Python.
"""

from ._engine import DrillOutcome, run_drill
from ._figures import PaymentRecord
from ._findings import missed_targets
from ._scenario import (
    CustomerMix,
    DrillFault,
    DrillProvider,
    Scenario,
    builtin_scenarios,
    load_scenario,
)

__all__ = [
    "CustomerMix",
    "DrillFault",
    "DrillOutcome",
    "DrillProvider",
    "PaymentRecord",
    "Scenario",
    "builtin_scenarios",
    "load_scenario",
    "missed_targets",
    "run_drill",
]
