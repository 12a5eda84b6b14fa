"""Encodings: JSON as Go's encoding/json writes it, YAML through ruamel.yaml, base64/32, hashes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zlib
from collections.abc import Mapping
from typing import Any

from .errors import FunctionError
from .formatting import format_json_float, sort_keys
from .registry import register, strval, want_str
from .values import NO_VALUE, type_name

_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _json_string(text: str, escape_html: bool) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    # Go always escapes the JavaScript line terminators, and <, >, & unless HTML escaping is off.
    encoded = encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if escape_html:
        for char, escape in _HTML_ESCAPES.items():
            encoded = encoded.replace(char, escape)
    return encoded


def to_json(value: Any, indent: str | None = None, escape_html: bool = True, prefix: str = "") -> str:
    """``json.Marshal`` (or ``MarshalIndent`` with ``indent``): sorted map keys, Go's number format."""
    if value is None or value is NO_VALUE:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        try:
            return format_json_float(value)
        except ValueError as exc:
            raise FunctionError(str(exc)) from None
    if isinstance(value, str):
        return _json_string(value, escape_html)
    inner = prefix + indent if indent is not None else ""
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{_json_string(strval(k), escape_html)}:{' ' if indent is not None else ''}{to_json(value[k], indent, escape_html, inner)}" for k in sort_keys(dict(value))]
        return _wrap("{", "}", items, indent, prefix)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return _wrap("[", "]", [to_json(item, indent, escape_html, inner) for item in value], indent, prefix)
    raise FunctionError(f"json: unsupported type: {type_name(value)}")


def _wrap(opening: str, closing: str, items: list[str], indent: str | None, prefix: str) -> str:
    if indent is None:
        return opening + ",".join(items) + closing
    inner = prefix + indent
    return opening + "\n" + ",\n".join(inner + item for item in items) + "\n" + prefix + closing


def from_json(text: str) -> Any:
    """Decode JSON; raises FunctionError on invalid input."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FunctionError(str(exc)) from None


def _yaml_ready(value: Any) -> Any:
    # Sprig's toYaml goes through JSON, so integral floats come out as ints and maps are sorted.
    if isinstance(value, Mapping):
        return {strval(k): _yaml_ready(value[k]) for k in sort_keys(dict(value))}
    if isinstance(value, (list, tuple)):
        return [_yaml_ready(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if value is NO_VALUE:
        return None
    return value


def to_yaml(value: Any) -> str:
    """YAML block style with sorted keys; no trailing newline (Sprig trims it)."""
    from ruamel.yaml import YAML  # imported on first use: most templates never need YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(_yaml_ready(value), stream)
    text = stream.getvalue()
    if text.endswith("\n...\n"):
        text = text[: -len("...\n")]
    return text.rstrip("\n")


def from_yaml(text: str) -> Any:
    """Parse YAML (safe loader); raises FunctionError on invalid input."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise FunctionError(" ".join(str(exc).split())) from None


@register("toJson", "mustToJson")
def e_to_json(value: Any) -> str:
    """JSON, HTML characters escaped (as Go's json.Marshal does)."""
    return to_json(value)


@register("toPrettyJson", "mustToPrettyJson")
def e_to_pretty_json(value: Any) -> str:
    """Indented JSON (two spaces)."""
    return to_json(value, indent="  ")


@register("toRawJson", "mustToRawJson")
def e_to_raw_json(value: Any) -> str:
    """JSON without HTML escaping."""
    return to_json(value, escape_html=False)


@register("fromJson")
def e_from_json(text: Any) -> Any:
    """Decoded JSON, or nil when invalid (Sprig drops the error)."""
    try:
        return from_json(want_str(text))
    except FunctionError:
        return None


@register("mustFromJson")
def e_must_from_json(text: Any) -> Any:
    """Decoded JSON; invalid JSON is an error."""
    return from_json(want_str(text))


@register("toYaml", "mustToYaml")
def e_to_yaml(value: Any) -> str:
    """YAML (block style, sorted keys)."""
    return to_yaml(value)


@register("fromYaml")
def e_from_yaml(text: Any) -> Any:
    """Decoded YAML map; on error a map with an "Error" key, as Sprig returns."""
    try:
        return from_yaml(want_str(text))
    except FunctionError as exc:
        return {"Error": str(exc)}


@register("fromYamlArray")
def e_from_yaml_array(text: Any) -> Any:
    """Decoded YAML list; on error a one-element list with the message."""
    try:
        return from_yaml(want_str(text))
    except FunctionError as exc:
        return [str(exc)]


@register("b64enc")
def e_b64enc(text: Any) -> str:
    """Standard base64 of the UTF-8 bytes."""
    return base64.b64encode(strval(text).encode()).decode()


@register("b64dec")
def e_b64dec(text: Any) -> str:
    """Decoded base64; Sprig returns the error text instead of failing."""
    try:
        return base64.b64decode(want_str(text), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return "illegal base64 data at input byte 0"


@register("b32enc")
def e_b32enc(text: Any) -> str:
    """Standard base32."""
    return base64.b32encode(strval(text).encode()).decode()


@register("b32dec")
def e_b32dec(text: Any) -> str:
    """Decoded base32, or the error text."""
    try:
        return base64.b32decode(want_str(text)).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


@register("sha1sum")
def e_sha1sum(text: Any) -> str:
    """Hex SHA-1."""
    return hashlib.sha1(want_str(text).encode(), usedforsecurity=False).hexdigest()


@register("sha256sum")
def e_sha256sum(text: Any) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(want_str(text).encode()).hexdigest()


@register("sha512sum")
def e_sha512sum(text: Any) -> str:
    """Hex SHA-512."""
    return hashlib.sha512(want_str(text).encode()).hexdigest()


@register("adler32sum")
def e_adler32sum(text: Any) -> str:
    """Adler-32 checksum in decimal."""
    return str(zlib.adler32(want_str(text).encode()))

