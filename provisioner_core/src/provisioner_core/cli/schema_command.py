"""``provision schema``: a JSON Schema of stack files, from the installed provisioners' option schemas.

Editors validate and complete stack files with it (e.g. yaml-language-server's
``# yaml-language-server: $schema=stack.schema.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from provisioner_core.cli.commands import state_of
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.schema import CORE_KEYS, json_schema

_OPEN = {"type": "object"}
_SECTIONS = ("vars", "settings", "env", "hooks", "metadata", "overrides", "locals")


def stack_schema(registry: PluginRegistry) -> dict[str, Any]:
    """The schema of a stack file: sections, components, and ``provision.<type>`` per installed provisioner."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for rp in registry.provisioners():
        options = json_schema(rp.spec.options) if rp.spec.options is not None else {"type": "object", "properties": dict(CORE_KEYS)}
        options["description"] = f"{rp.spec.name}: {rp.spec.description}"
        by_type.setdefault(rp.spec.type, []).append(options)
    provision = {
        "type": "object",
        "properties": {t: (schemas[0] if len(schemas) == 1 else {"anyOf": schemas}) for t, schemas in sorted(by_type.items())},
        "additionalProperties": {"type": "object", "properties": dict(CORE_KEYS)},
    }
    sections: dict[str, Any] = {name: dict(_OPEN) for name in _SECTIONS}
    sections.update(
        backend_type={"type": "string", "description": "the terraform backend: " + ", ".join(sorted(registry.backend_types())) + ", …"},
        backend={"type": "object", "properties": {name: dict(_OPEN) for name in sorted(registry.backend_types())}},
        provision={"$ref": "#/$defs/provision"},
        auth={"type": "object", "properties": {"providers": {"type": "object", "properties": {
            name: {"type": "object", "properties": {"type": {"enum": sorted({p.type for p in registry.credential_providers() if p.name == name})}}, "required": ["type"]}
            for name in sorted({p.name for p in registry.credential_providers()})
        }}}},
    )  # fmt: skip
    # Sections plugins registered (Atmos's `source:`): any value; their plugin checks them.
    sections.update({name: {"description": section.description} for name, section in sorted(registry.component_sections().items())})
    component = {"type": "object", "properties": sections}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "provisioner / Atmos stack file",
        "type": "object",
        "properties": {
            "import": {"type": ["array", "string"]},
            **sections,
            "terraform": {"type": "object", "properties": sections},
            "components": {"type": "object", "properties": {"terraform": {"type": "object", "additionalProperties": {"$ref": "#/$defs/component"}}}},
        },
        "$defs": {"provision": provision, "component": component},
    }


@click.command("schema")
@click.option("-o", "--out", "out", default=None, metavar="FILE", help="Write the schema to FILE (default: stdout).")
@click.pass_context
def schema_command(ctx: click.Context, out: str | None) -> None:
    """Write a JSON Schema for stack files (every installed provisioner's options), for editors."""
    state = state_of(ctx)
    text = json.dumps(stack_schema(state.registry), indent=2, sort_keys=True)
    if out is None:
        state.console.result(text)
    else:
        Path(out).write_text(text + "\n")
        state.console.status(f"Wrote {out}")
