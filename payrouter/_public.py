"""One helper the public packages share: make tracebacks name the public home of an error."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

__all__ = ["present_as_public"]


def present_as_public(
    module: str, names: Iterable[str], namespace: MutableMapping[str, Any]
) -> None:
    """Set errors' `__module__` so tracebacks read `payrouter.DeclinedError`.

    Only exceptions are renamed: `typing.get_type_hints` resolves a class's string annotations
    in the module `__module__` names, so renaming a dataclass or model would break type-hint
    introspection (pydantic, FastAPI, our own redaction test) for names that live privately.
    """
    for name in names:
        item = namespace[name]
        if isinstance(item, type) and issubclass(item, BaseException):
            item.__module__ = module
