"""Tools for testing code that uses payrouter: the testing switch and simulated providers."""

from payrouter._testmode import set_testing

__all__ = ["set_testing"]
