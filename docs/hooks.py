"""MkDocs hook: pages say `<!-- generate: NAME -->` and get a table built from the code.

So the docs cannot drift from the code: the failure taxonomy comes from `POLICY`, the
configuration reference from the pydantic models, the CLI reference from the typer app. A
hand-written generator is needed because no MkDocs plugin renders these three sources the way
the pages need them (mkdocstrings documents Python objects, not config keys or CLI options).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

_MARKER = re.compile(r"<!--\s*generate:\s*([a-z_-]+)\s*-->")


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each marker with its generated Markdown; an unknown name fails the build."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generator {name!r}; known: {sorted(GENERATORS)}")
        return GENERATORS[name]()

    return _MARKER.sub(replace, markdown)


def taxonomy_table() -> str:
    """The policy table, row by row from `payrouter.POLICY`."""
    from payrouter.provider import POLICY

    rows = [
        "| failure kind | retry same provider | fail over | counts against breaker "
        "| decline | alerts | customer message |",
        "|---|:-:|:-:|:-:|:-:|:-:|---|",
    ]
    for kind, policy in POLICY.items():
        rows.append(
            f"| `{kind.value}` | {_tick(policy.retry_same)} | {_tick(policy.fail_over)} "
            f"| {_tick(policy.counts_against_breaker)} | {_tick(policy.is_decline)} "
            f"| {_tick(policy.alert)} | {policy.customer_message or ''} |"
        )
    return "\n".join(rows)


def config_reference() -> str:
    """Every configuration key, its type, default and description, from the pydantic models."""
    from payrouter._config import PayrouterConfig

    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    rows += [_field_row(key, field) for key, field in _fields(PayrouterConfig, "")]
    return "\n".join(rows)


def cli_reference() -> str:
    """Every command of `payrouter`, its usage and its options, from the typer app itself."""
    from payrouter._cli._app import app

    # typer ships its own copy of click, so the objects are used by their interface only.
    root: Any = typer.main.get_command(app)
    context = root.context_class(root, info_name="payrouter")
    parts: list[str] = []
    for name in root.list_commands(context):
        command = root.get_command(context, name)
        sub = command.context_class(command, info_name=name, parent=context)
        parts.append(f"### `payrouter {name}`\n")
        parts.append((command.help or "").strip().split("\n\n")[0] + "\n")
        parts.append(f"```\n{command.get_usage(sub)}\n```\n")
        options = [_param_row(param) for param in command.params if param.name != "help"]
        if options:
            parts.append("| argument / option | help | default |\n|---|---|---|")
            parts.append("\n".join(options) + "\n")
    return "\n".join(parts)


GENERATORS: dict[str, Callable[[], str]] = {
    "taxonomy": taxonomy_table,
    "config": config_reference,
    "cli": cli_reference,
}


def _tick(flag: bool) -> str:
    return "yes" if flag else ""


def _fields(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, FieldInfo]]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        yield key, field
        nested = _model_in(field.annotation)
        if nested is not None:
            suffix = "[]." if _is_list(field.annotation) else "."
            yield from _fields(nested, key + suffix)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(argument) for argument in typing.get_args(annotation))


def _field_row(key: str, field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        default = "required"
    elif field.default_factory is not None:
        default = "empty"
    elif isinstance(field.default, BaseModel):
        default = "see below"
    else:
        default = f"`{_plain(field.default)}`"
    description = (field.description or "").replace("|", "\\|")
    return f"| `{key}` | {_type_name(field.annotation)} | {default} | {description} |"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " or ".join(_type_name(argument) for argument in typing.get_args(annotation))
    if typing.get_origin(annotation) is not None:
        arguments = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{typing.get_origin(annotation).__name__}[{arguments}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _param_row(param: Any) -> str:
    if param.param_type_name == "option":
        names = ", ".join(f"`{option}`" for option in param.opts)
        help_text = param.help or ""
    else:
        names = f"`{(param.name or '').upper()}`"
        help_text = getattr(param, "help", None) or ""
    default = param.default
    shown = "" if default in (None, False, ()) or callable(default) else f"`{default}`"
    return f"| {names} | {help_text} | {shown} |"
