"""payrouter's rehearsal room: provider stand-ins, outage drills and their report.

`payrouter_lab.sandbox` serves stateful stand-ins of Stripe, Adyen, PayPal and a Berlin Group
bank; `payrouter_lab.drill` runs payrouter and two naive baselines on the same traffic and
faults; `payrouter_lab.report` renders the drill's HTML report. It uses payrouter's public API
only (an import-linter contract checks it).
"""

from ._version import __version__

__all__ = ["__version__"]
