"""Whether a provider may be called now: breakers, rate and concurrency limits, maintenance
windows, and the state several processes share through Redis."""
