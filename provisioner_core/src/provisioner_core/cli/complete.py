"""Shell completion of stack and component names (``-s/--stack``, ``COMPONENT``).

Completion runs on every <TAB>: it reads the project's stack files without resolving
components, and a broken project (or any error) completes nothing rather than printing one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from provisioner_core.cli.state import CliState, project_source
from provisioner_core.session import Provisioning
from provisioner_core.stacks.resolver import StackRepository


def _repository(ctx: click.Context) -> StackRepository:
    state = ctx.find_root().obj
    state = state if isinstance(state, CliState) else CliState(None, False)
    # The group's callback does not run while completing: --config is read from the parsed options.
    config = ctx.find_root().params.get("config") or state.config
    cwd = state.cwd or Path.cwd()
    config = project_source(config, os.environ)
    return Provisioning.from_path(config, cwd, state.registry).stacks


def _items(names: Iterable[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in sorted(set(names)) if name.startswith(incomplete)]


def _never_raising(find: Callable[[click.Context], Iterable[str]]) -> Callable[[click.Context, Any, str], list[CompletionItem]]:
    def complete(ctx: click.Context, _param: Any, incomplete: str) -> list[CompletionItem]:
        try:
            return _items(find(ctx), incomplete)
        except Exception:  # noqa: BLE001 - a <TAB> must never print a traceback into the user's prompt
            return []

    return complete


def _stacks(ctx: click.Context) -> Iterable[str]:
    return _repository(ctx).stack_names()


def _components(ctx: click.Context) -> Iterable[str]:
    repository = _repository(ctx)
    given = ctx.params.get("stack") or ctx.params.get("stacks") or ()
    stacks = [given] if isinstance(given, str) else list(given)
    names: set[str] = set()
    for stack in stacks or repository.stack_names():
        names.update(repository.component_names(stack))
    return names


#: ``shell_complete=`` for a ``-s/--stack`` option: the project's stack names (nothing when it is broken).
complete_stacks = _never_raising(_stacks)
#: ``shell_complete=`` for a component argument: the components of the ``-s`` stacks given so far (else of every stack).
complete_components = _never_raising(_components)
