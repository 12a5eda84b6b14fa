"""Option schemas: a provisioner declares its ``provision.<type>`` options as an attrs class.

Core checks every enabled provisioner's options against its class before anything runs, and
reports every problem at once (exit 2); the provisioner then receives the typed, frozen
instance. The same class gives ``provision plugins --options TYPE`` and the JSON Schema of
``provision schema``. Structuring is cattrs's, made strict: a string is never turned into a
number or a boolean, and an unknown key is an error with the closest known key.

    @frozen
    class HelloOptions:
        folder: str = option(description="where the greeting files go (relative to the project root)")
        greeting: str = option("Hello", description="the first word")

    SPEC = ProvisionerSpec(name="hello", type="hello", events=(...), description="...", options=HelloOptions)
"""

from __future__ import annotations

import difflib
import enum
import types
import typing
from collections.abc import Mapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import attrs

from provisioner_core.errors import ConfigError

# Keys of provision.<type> that core owns; they never reach a provisioner's schema.
CORE_KEYS: Mapping[str, dict[str, Any]] = {
    "enabled": {"type": "boolean", "description": "run this provisioner for the component (a YAML boolean)"},
    "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "seconds per run of this provisioner (default 900)"},
}
_NO_DEFAULT = attrs.NOTHING


def option(default: Any = _NO_DEFAULT, *, description: str, factory: Any = None) -> Any:
    """An attrs field with a description (shown by ``provision plugins --options`` and in the JSON Schema)."""
    if factory is not None:
        return attrs.field(factory=factory, metadata={"description": description})
    return attrs.field(default=default, metadata={"description": description})


# --- strict structuring -------------------------------------------------------------------


def _strict(kind: type[Any], name: str) -> Any:
    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"must be {name}, got {value!r}")
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            raise TypeError(f"must be {name}, got {type(value).__name__} {value!r}")
        return value

    return structure


def _is_collection(kind: Any) -> bool:
    """list/tuple[X, ...]/set/frozenset/Sequence of X (not a fixed-length tuple)."""
    origin, args = get_origin(kind), get_args(kind)
    if origin is tuple:
        return len(args) == 2 and args[1] is Ellipsis
    return origin in (list, set, frozenset, Sequence, MutableSequence, AbstractSet)


def _collection(kind: Any, converter: Any) -> Any:
    """cattrs would iterate a string into characters: a list option must get a YAML list."""
    from cattrs.cols import list_structure_factory

    origin, args = get_origin(kind), get_args(kind)
    item = args[0] if args else Any
    items = list_structure_factory(list[item], converter)  # type: ignore[valid-type]
    build: Any = {tuple: tuple, set: set, frozenset: frozenset, AbstractSet: frozenset, Sequence: tuple}.get(origin, list)

    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple, set, frozenset)):
            raise TypeError(f"must be a list, got {type(value).__name__} {value!r}")
        return build(items(value, list[item]))  # type: ignore[valid-type]

    return structure


def _is_union(kind: Any) -> bool:
    return get_origin(kind) in (Union, types.UnionType) and len([a for a in get_args(kind) if a is not type(None)]) > 1


def _union(kind: Any, converter: Any) -> Any:
    """``str | dict[str, Any]`` and the like: the first member the value fits, in declaration order."""
    members = [a for a in get_args(kind) if a is not type(None)]
    optional = len(members) != len(get_args(kind))

    def structure(value: Any, _: Any) -> Any:
        if value is None and optional:
            return None
        for member in members:
            try:
                return converter.structure(value, member)
            except Exception:  # noqa: BLE001 - not this member; the next one may fit
                continue
        raise TypeError(f"must be {_type_text(kind)}, got {type(value).__name__} {value!r}")

    return structure


@cache
def _converter() -> Any:
    import cattrs

    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for kind, name in ((str, "a string"), (int, "an integer"), (float, "a number"), (bool, "true or false")):
        converter.register_structure_hook(kind, _strict(kind, name))
    converter.register_structure_hook_factory(_is_collection, _collection)
    converter.register_structure_hook_factory(_is_union, _union)
    return converter


def _format(error: BaseException, kind: Any) -> str:
    import cattrs

    if isinstance(error, cattrs.ForbiddenExtraKeysError):
        known = [a.name for a in attrs.fields(error.cl)]
        parts = []
        for key in sorted(error.extra_fields):
            close = difflib.get_close_matches(key, known, n=1)
            parts.append(f"unknown option '{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        return "; ".join(parts) + f"; known: {', '.join(known)}"
    if isinstance(error, KeyError):
        return "is required"
    if get_origin(kind) is Literal:
        return f"must be one of {', '.join(repr(v) for v in get_args(kind))}"
    return str(error)


def structure_options(schema: type[Any], options: Mapping[str, Any], where: str) -> Any:
    """``options`` (core's keys removed) as an instance of ``schema``; every problem in one ConfigError."""
    import cattrs

    values = {k: v for k, v in options.items() if k not in CORE_KEYS}
    try:
        return _converter().structure(values, schema)
    except (cattrs.BaseValidationError, TypeError, ValueError) as error:
        if isinstance(error, cattrs.BaseValidationError):
            problems = cattrs.transform_error(error, path=where, format_exception=_format)
        else:
            problems = [f"{str(error)} @ {where}"]
        raise ConfigError(
            f"{where}: {len(problems)} invalid option{'s' if len(problems) != 1 else ''}: " + "; ".join(_reword(p) for p in problems),
            hint=[_reword(p) for p in problems] + [f"See `provision plugins --options {where.rsplit('.', 1)[-1]}` for every option."],
        ) from None


def _reword(problem: str) -> str:
    # cattrs writes "<message> @ <path>": put the path first, like every other error of ours.
    message, _, path = problem.rpartition(" @ ")
    return f"{path}: {message}" if message else problem


def check_core_keys(options: Mapping[str, Any], where: str) -> list[str]:
    """Problems with ``enabled`` and ``timeout`` (core's keys)."""
    problems = []
    if "enabled" in options and not isinstance(options["enabled"], bool):
        problems.append(f"{where}.enabled must be true or false, got {options['enabled']!r}")
    timeout = options.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        problems.append(f"{where}.timeout must be a positive number of seconds, got {timeout!r}")
    return problems


# --- describing: rows and JSON Schema -----------------------------------------------------


@attrs.frozen
class OptionRow:
    name: str
    type: str
    default: str
    description: str


def _hints(schema: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(schema)


def option_rows(schema: type[Any]) -> list[OptionRow]:
    """One row per option: name, type, default, description (``provision plugins --options``)."""
    hints = _hints(schema)
    rows = []
    for field in attrs.fields(schema):
        if field.default is attrs.NOTHING:
            default = "(required)"
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            default = repr(field.default.factory())
        else:
            default = repr(field.default.value if isinstance(field.default, enum.Enum) else field.default)
        rows.append(OptionRow(field.name, _type_text(hints[field.name]), default, str(field.metadata.get("description", ""))))
    return rows


def _type_text(kind: Any) -> str:
    origin = get_origin(kind)
    if origin is Literal:
        return " | ".join(repr(v) for v in get_args(kind))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_text(a) for a in get_args(kind))
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_text(a) for a in get_args(kind) if a is not Ellipsis)}]"
    return getattr(kind, "__name__", str(kind))


def json_schema(schema: type[Any]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12 subset) of an options class, core's keys included."""
    body = _object_schema(schema)
    body["properties"] = {**CORE_KEYS, **body["properties"]}
    return body


def _object_schema(schema: type[Any]) -> dict[str, Any]:
    hints = _hints(schema)
    properties: dict[str, Any] = {}
    required = []
    for field in attrs.fields(schema):
        prop = _type_schema(hints[field.name])
        if "description" in field.metadata:
            prop["description"] = field.metadata["description"]
        if field.default is attrs.NOTHING:
            required.append(field.name)
        elif not isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            value = field.default.value if isinstance(field.default, enum.Enum) else field.default
            if isinstance(value, (str, int, float, bool, type(None))):
                prop["default"] = value
        properties[field.name] = prop
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def _type_schema(kind: Any) -> dict[str, Any]:
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if kind in simple:
        return {"type": simple[kind]}
    if kind is type(None):
        return {"type": "null"}
    if kind is Any:
        return {}
    if attrs.has(kind):
        return _object_schema(kind)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return {"enum": [m.value for m in kind]}
    origin, args = get_origin(kind), get_args(kind)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_type_schema(a) for a in args]}
    if origin in (list, tuple, Sequence, set, frozenset):
        items = [a for a in args if a is not Ellipsis]
        return {"type": "array", "items": _type_schema(items[0]) if items else {}}
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _type_schema(args[1]) if len(args) == 2 else {}}
    return {}
