"""Concrete provider adapters for payrouter, plugged in through the public Adapter protocol."""
