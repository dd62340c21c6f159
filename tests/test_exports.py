"""The public API is what the packages' `__all__` lists: importable, public, sorted."""

from __future__ import annotations

import importlib
import types

import pytest

import payrouter
import payrouter.testing

_PACKAGES = (payrouter, payrouter.testing)


def _ruff_isort_key(name: str) -> tuple[int, str]:
    """RUF022's order: SCREAMING_SNAKE_CASE, then CamelCase, then everything else."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize(
    ("package", "name"),
    [(package, name) for package in _PACKAGES for name in package.__all__],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_every_listed_name_imports_from_its_top_level_package(
    package: types.ModuleType, name: str
) -> None:
    """`from payrouter import X` (or `from payrouter.testing import X`) works for all of __all__."""
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import {name}", namespace)
    assert namespace[name] is getattr(package, name)


@pytest.mark.parametrize("package", _PACKAGES, ids=lambda package: package.__name__)
def test_all_lists_no_private_names_or_modules(package: types.ModuleType) -> None:
    """Nothing private leaks into __all__: no `_name`, and no module objects."""
    for name in package.__all__:
        assert not (name.startswith("_") and not name.startswith("__")), name
        assert not isinstance(getattr(package, name), types.ModuleType), name


@pytest.mark.parametrize("package", _PACKAGES, ids=lambda package: package.__name__)
def test_all_has_no_duplicates_and_is_sorted_as_ruff_sorts_it(
    package: types.ModuleType,
) -> None:
    """__all__ is in RUF022 (isort-style) order, each name once."""
    names = list(package.__all__)
    assert len(names) == len(set(names))
    assert names == sorted(names, key=_ruff_isort_key)


def test_every_private_module_export_is_reexported_publicly() -> None:
    """Each private module's __all__ either reaches payrouter.__all__ or is internal on purpose."""
    internal = {
        "_attempt": {"AttemptRun", "call_safely", "is_conclusive_lookup", "run_attempt"},
        "_breaker": {"BreakerBoard", "BreakerOpen", "BreakerSettings", "ProviderFault"},
        "_hooks": {"emit"},
        "_reconcile": {"reconcile", "reconcile_payment"},
        "_retry": {"RetryPolicy", "RetryableReply", "pause_seconds", "retrying", "wait_seconds"},
        "_routing": {"Candidate", "eligible", "healthy_methods", "plan"},
        "_transport": {"reply_for_exception"},
        "_keys": {"derive_key"},
        "_observe._metrics": {"BREAKER_STATE_VALUES", "METRIC_NAMES"},
        "_observe._logs": {"describe"},
        "_observe._redact": {"MASK", "is_sensitive_key", "luhn_valid"},
    }
    public = set(payrouter.__all__)
    for module_name in (
        "_adapter",
        "_errors",
        "_hooks",
        "_models",
        "_money",
        "_reconcile",
        "_router",
        "_settings",
        "_sync",
        "_taxonomy",
        "_observe._listeners",
        "_observe._logs",
        "_observe._metrics",
        "_observe._otel",
        "_observe._redact",
    ):
        module = importlib.import_module(f"payrouter.{module_name}")
        missing = set(module.__all__) - public - internal.get(module_name, set())
        assert not missing, f"payrouter.{module_name} exports {missing} but payrouter does not"


def test_testing_switch_is_reachable_from_the_testing_package() -> None:
    """Test suites of merchants turn testing mode on with payrouter.testing.set_testing."""
    from payrouter._testmode import set_testing

    assert payrouter.testing.set_testing is set_testing
