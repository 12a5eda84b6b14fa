"""Typed reading of a provisioner's ``provision.<type>`` options, with clear errors.

Wrong types are configuration errors (exit 2); unknown keys are warnings that name the
closest known key, so a typo never silently disables a setting.
"""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from provisioner_core.errors import ConfigError

_MISSING = object()


class OptionReader:
    """Read options from a mapping; ``where`` names it in messages (``provision.backend``)."""

    def __init__(self, options: Mapping[str, Any] | None, where: str) -> None:
        if options is not None and not isinstance(options, Mapping):
            raise ConfigError(f"{where} must be a mapping, got {type(options).__name__}", hint=f"Write {where} as key: value pairs.")
        self._options: Mapping[str, Any] = options or {}
        self.where = where
        self._seen: set[str] = set()

    def _get(self, key: str) -> Any:
        self._seen.add(key)
        return self._options.get(key, _MISSING)

    def _wrong(self, key: str, expected: str, value: Any, example: str) -> ConfigError:
        return ConfigError(
            f"{self.where}.{key} must be {expected}, got {value!r}",
            hint=f"Write it as `{key}: {example}`.",
            context={"key": f"{self.where}.{key}"},
        )

    def bool(self, key: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._get(key)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value, "true")
        return value

    def str(
        self, key: builtins.str, default: builtins.str | None = None, *, required: builtins.bool = False, hint: builtins.str | None = None
    ) -> builtins.str | None:
        value = self._get(key)
        if value is _MISSING or value is None or value == "":
            if required:
                raise ConfigError(
                    f"{self.where}.{key} is required",
                    hint=hint or f"Add `{key}: <value>` under {self.where}.",
                    context={"key": f"{self.where}.{key}"},
                )
            return default
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value, '"value"')
        return value

    def int(
        self, key: builtins.str, default: builtins.int | None = None, *, minimum: builtins.int | None = None, maximum: builtins.int | None = None
    ) -> builtins.int | None:
        value = self._get(key)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer", value, str(minimum or 1))
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ConfigError(
                f"{self.where}.{key} must be between {minimum} and {maximum}, got {value}",
                hint=f"Choose a value in [{minimum}, {maximum}].",
                context={"key": f"{self.where}.{key}"},
            )
        return value

    def mapping(self, key: builtins.str) -> dict[builtins.str, builtins.str]:
        """A mapping of string keys to scalar values (tags, labels, metadata), as strings."""
        value = self._get(key)
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self._wrong(key, "a mapping", value, "{Team: platform}")
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, (Mapping, list)):
                raise self._wrong(f"{key}.{k}", "a scalar", v, "value")
            out[str(k)] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
        return out

    def str_list(self, key: builtins.str, *, choices: Iterable[builtins.str] | None = None) -> list[builtins.str]:
        value = self._get(key)
        if value is _MISSING or value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(key, "a list of strings", value, "[a, b]")
        if choices is not None:
            allowed = sorted(choices)
            for item in value:
                if item not in allowed:
                    close = difflib.get_close_matches(item, allowed, n=1)
                    raise ConfigError(
                        f"{self.where}.{key}: unknown value {item!r}",
                        hint=(f"Did you mean {close[0]!r}? " if close else "") + f"Allowed: {', '.join(allowed)}.",
                        context={"key": f"{self.where}.{key}"},
                    )
        return value

    def raw(self, key: builtins.str) -> Any:
        value = self._get(key)
        return None if value is _MISSING else value

    @property
    def read_keys(self) -> list[builtins.str]:
        """Every key a parser asked for so far (to document or check the options it knows)."""
        return sorted(self._seen)

    def unknown_keys(self, also_known: Iterable[builtins.str] = ("enabled",)) -> list[builtins.str]:
        """Warnings for keys nobody read, each with the closest known key."""
        known = self._seen | set(also_known)
        warnings = []
        for key in self._options:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            suggestion = f"; did you mean '{close[0]}'?" if close else ""
            warnings.append(f"{self.where}.{key} is not a known option and was ignored{suggestion}")
        return warnings
