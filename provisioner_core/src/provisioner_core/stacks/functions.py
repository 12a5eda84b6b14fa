"""Atmos's YAML functions, evaluated when a component is resolved (after its templates, as in Atmos).

Supported: ``!env NAME [default]``, ``!exec COMMAND``, ``!template TEXT``,
``!terraform.output COMPONENT [STACK] OUTPUT`` and ``!terraform.state COMPONENT [STACK] OUTPUT``
(``!include``/``!include.raw``/``!literal``/``!append`` are handled when the file is read). Any
other tag is exit 2 naming it, its file and line. Stack files can run commands through ``!exec``:
treat them as code (docs/yaml-functions.md).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from provisioner_core.errors import ConfigError, ProvisionerError
from provisioner_core.stacks.tags import YamlFunction, _query

SUPPORTED = ("!env", "!exec", "!template", "!terraform.output", "!terraform.state")
EXEC_TIMEOUT_S = 300


class OutputsHost(Protocol):
    """Reads another component's outputs (``Provisioning`` implements it; the resolver names no cloud)."""

    def terraform_outputs(self, stack: str, component: str) -> Mapping[str, Any]:
        """Outputs by name (their values), from ``terraform output`` in the component's folder (cached per run)."""

    def state_outputs(self, stack: str, component: str) -> Mapping[str, Any]:
        """Outputs by name, read from the component's state object through its backend plugin."""


class FunctionContext:
    """What evaluating the functions of one component needs."""

    def __init__(self, stack: str, env_section: Mapping[str, Any], host: OutputsHost | None, render: Callable[[str], str], cwd: str) -> None:
        self.stack = stack
        self.env_section = env_section
        self.host = host
        self.render = render
        self.cwd = cwd


def refuse(function: YamlFunction, why: str = "") -> ConfigError:
    return ConfigError(
        f"{function.where}: unsupported YAML function {function.tag}{': ' + why if why else ''}",
        hint=f"Supported YAML functions: {', '.join(SUPPORTED)}, !include, !include.raw, !literal, !append (docs/yaml-functions.md).",
    )


def evaluate(function: YamlFunction, ctx: FunctionContext) -> Any:
    tag = function.tag
    if tag == "!env":
        return _env(function, ctx)
    if tag == "!exec":
        return _exec(function, ctx)
    if tag == "!template":
        text = function.args if "{{" not in function.args else ctx.render(function.args)
        try:
            return json.loads(text)
        except ValueError:
            return text
    if tag in ("!terraform.output", "!terraform.state"):
        return _outputs(function, ctx)
    raise refuse(function)


def _words(function: YamlFunction) -> list[str]:
    try:
        return shlex.split(function.args)
    except ValueError as exc:
        raise ConfigError(f"{function.where}: {function.tag}: {exc}", hint=f"Check the quotes of `{function}`.") from None


def _env(function: YamlFunction, ctx: FunctionContext) -> Any:
    words = _words(function)
    if not words or len(words) > 2:
        raise ConfigError(f"{function.where}: !env takes a variable name and an optional default, got {function.args!r}", hint="Write `!env NAME` or `!env NAME default`.")
    name = words[0]
    # Atmos looks in the component's env section first, then the process environment.
    if name in ctx.env_section and ctx.env_section[name] is not None:
        return str(ctx.env_section[name])
    value = os.environ.get(name)
    if value is not None:
        return value
    return words[1] if len(words) == 2 else ""


def _exec(function: YamlFunction, ctx: FunctionContext) -> Any:
    if not function.args:
        raise ConfigError(f"{function.where}: !exec needs a command", hint="Write `!exec echo value`.")
    try:
        done = subprocess.run(["sh", "-c", function.args], cwd=ctx.cwd, capture_output=True, text=True, timeout=EXEC_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{function.where}: !exec {function.args}: no result after {EXEC_TIMEOUT_S} s", hint="Make the command finish sooner.") from None
    except OSError as exc:
        raise ConfigError(f"{function.where}: !exec cannot run a shell: {exc.strerror}", hint="Install sh.") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        raise ConfigError(
            f"{function.where}: !exec {function.args}: exit {done.returncode}{': ' + last if last else ''}",
            hint="Fix the command; a stack value cannot come from a command that fails.",
        )
    output = done.stdout.rstrip("\n")  # as shell command substitution does
    try:
        return json.loads(output)
    except ValueError:
        return output


def _outputs(function: YamlFunction, ctx: FunctionContext) -> Any:
    words = _words(function)
    if "//" in words[1:]:
        # `.name // default`: the alternative belongs to the output expression.
        cut = words.index("//", 1)
        words = [*words[: cut - 1], " ".join([words[cut - 1], "//", json.dumps(" ".join(words[cut + 1 :]))])]
    if len(words) == 2:
        component, stack, output = words[0], ctx.stack, words[1]
    elif len(words) == 3:
        component, stack, output = words
    else:
        raise ConfigError(
            f"{function.where}: {function.tag} takes COMPONENT [STACK] OUTPUT, got {function.args!r}",
            hint=f"Write `{function.tag} vpc vpc_id` or `{function.tag} vpc {{{{ .stack }}}} vpc_id`.",
        )
    if ctx.host is None:
        raise ConfigError(f"{function.where}: {function.tag} needs a provisioning run to read outputs", hint="Resolve stacks through Provisioning.")
    read = ctx.host.terraform_outputs if function.tag == "!terraform.output" else ctx.host.state_outputs
    output, default = _default(output)
    try:
        outputs = read(stack, component)
    except ProvisionerError:
        if default is None:
            raise
        return default  # Atmos: with a `// default`, a component whose outputs cannot be read gives the default

    if output.startswith("."):
        value = _query(dict(outputs), output, function.where, function.tag)
        return default if value is None else value
    # A missing output is null, as in Atmos (a component not applied yet has none).
    return outputs.get(output, default)


def _default(output: str) -> tuple[str, Any]:
    """``.name // default``: yq's alternative, used when the output is missing or null."""
    expression, sep, fallback = output.partition("//")
    if not sep:
        return output, None
    fallback = fallback.strip()
    try:
        return expression.strip(), json.loads(fallback)
    except ValueError:
        return expression.strip(), fallback.strip("'")
