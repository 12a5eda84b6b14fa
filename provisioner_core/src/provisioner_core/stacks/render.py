"""Go templates and YAML functions in a component's sections, in Atmos's order.

Atmos renders a component's whole section as one template whose data is the section before
rendering (``.vars``, ``.settings``, ``.env``, ``.backend``, ``.metadata``, ``.workspace``,
``.atmos_component``, ``.atmos_stack``, ``.atmos_stack_file``, ``.component`` ...), with missing
keys printed ``<no value>``, then evaluates YAML functions. We render each string (and key) that
holds the left delimiter with the same data — the same result, since Atmos's YAML quoting keeps
every rendered value a string — and each distinct text is parsed once per process
(``gotemplate.parse`` caches it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from provisioner_core.gotemplate import parse
from provisioner_core.stacks.config import TemplateSettings
from provisioner_core.stacks.functions import FunctionContext, evaluate
from provisioner_core.stacks.tags import Literal, YamlFunction


class Renderer:
    """Renders strings of one component with its template data."""

    def __init__(
        self, data: Mapping[str, Any], settings: TemplateSettings, where: str, extra_env: Mapping[str, str] | None = None, missing: str = "default"
    ) -> None:
        self.data = data
        self.missing = missing  # Atmos prints <no value> for a missing key in stack values
        self.settings = settings
        self.where = where
        env = {**settings.env, **(extra_env or {})}
        # Atmos sets templates.settings.env in the process environment while rendering.
        self.env = {**os.environ, **env} if env else None

    def text(self, text: str, path: str = "") -> str:
        left = self.settings.delimiters[0]
        name = f"{self.where}{' ' + path if path else ''}"
        for _ in range(self.settings.evaluations):
            if left not in text:
                break
            text = parse(text, name=name, delimiters=self.settings.delimiters).render(self.data, missing=self.missing, env=self.env)
        return text

    def value(self, value: Any, path: str = "") -> Any:
        """``value`` with its templates rendered; an unchanged mapping or list is returned as it is."""
        kind = type(value)
        left = self.settings.delimiters[0]
        if kind is str:
            return self.text(value, path) if left in value else value
        if kind is dict or isinstance(value, Mapping):
            changed: dict[Any, Any] | None = None
            for index, (key, item) in enumerate(value.items()):
                new_key = self.text(key, path) if type(key) is str and left in key else key
                new_item = self.value(item, f"{path}.{key}" if path else str(key))
                if changed is None and (new_key is not key or new_item is not item):
                    changed = dict(list(value.items())[:index])  # what came before, unchanged
                if changed is not None:
                    changed[new_key] = new_item
            return value if changed is None else changed
        if kind is list or isinstance(value, list):
            items = [self.value(v, f"{path}[{i}]") for i, v in enumerate(value)]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        if kind is YamlFunction:
            return value.with_args(self.text(value.args, path)) if left in value.args else value
        if kind is Literal:
            return str(value)
        return value


def evaluate_functions(value: Any, ctx: FunctionContext) -> Any:
    """``value`` with every YAML function replaced by its result; an unchanged mapping or list is returned as it is."""
    kind = type(value)
    if kind is str:
        return value
    if kind is YamlFunction:
        return evaluate(value, ctx)
    if kind is dict or isinstance(value, Mapping):
        changed: dict[Any, Any] | None = None
        for index, (key, item) in enumerate(value.items()):
            new_item = evaluate_functions(item, ctx)
            if changed is None and new_item is not item:
                changed = dict(list(value.items())[:index])
            if changed is not None:
                changed[key] = new_item
        return value if changed is None else changed
    if kind is list or isinstance(value, list):
        items = [evaluate_functions(v, ctx) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if kind is Literal:
        return str(value)
    return value
