"""The one place the package version is written; pyproject and `payrouter --version` read it."""

__version__ = "0.1.0"
