"""What an operator sees: metrics, structured redacted logs, spans, and paging listeners.

Private package; the public names are re-exported from `payrouter`, importing from the
submodules directly, because `payrouter._hooks` uses `_redact` and `_logs` while
`_listeners` uses `payrouter._hooks` (importing them all here would be circular).
"""
