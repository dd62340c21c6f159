"""The pay path: plan the candidates, run each attempt (breaker, retries, lookups), decide, record.

`_payer` is the one way through a payment; `_attempt` runs one provider call with its retries;
`_retry` is the loop's timing; `_plan` lists eligible candidates; `_routing` applies the
merchant's rules and strategies; `_fees` prices a candidate; `_keys` derives idempotency keys;
`_transport` builds the HTTP clients adapters share.
"""
