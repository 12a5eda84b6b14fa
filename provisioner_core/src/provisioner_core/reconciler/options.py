"""The options every backend shares (``provision.backend.*``), one vocabulary for all of them.

Each backend's options class extends :class:`BackendOptions` with its own fields, and reads the
shared ones with :func:`read_backend_options`, which also accepts the deprecated spellings
(``retries`` for ``attempts``) and a backend's own word for ``tags`` (``labels``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen

from provisioner_core.errors import ConfigError
from provisioner_core.options import OptionReader
from provisioner_core.schema import option

DEFAULT_ATTEMPTS = 3
DEFAULT_WAIT_TIMEOUT = 120


@frozen
class BackendOptions:
    """``report_only``, ``skip``, ``attempts``, ``wait_timeout`` and ``tags``: what every backend's options have."""

    report_only: bool = option(False, description="read and report drift; never write (a missing resource is then exit 2)")
    skip: frozenset[str] = option(frozenset(), description="settings to leave alone (a typo is exit 2 with the close match)")
    attempts: int = option(DEFAULT_ATTEMPTS, description="attempts per call, the first included, for throttling, 5xx, dropped connections and timeouts")
    wait_timeout: int = option(DEFAULT_WAIT_TIMEOUT, description="seconds to wait for a new resource to become visible or ready")
    tags: Mapping[str, str] = option(factory=dict, description="tags (labels) merged with the provisioner's own; existing ones are kept")

    def wants(self, setting: str) -> bool:
        """True unless ``setting`` is in ``skip``."""
        return setting not in self.skip


def read_backend_options(
    reader: OptionReader,
    *,
    skippable: Sequence[str],
    skip_aliases: Mapping[str, str] | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    max_attempts: int = 10,
    tags_alias: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The shared options as keyword arguments for a :class:`BackendOptions` subclass, and deprecation warnings.

    ``skippable``: the values ``skip`` accepts (``skip_aliases`` maps other accepted spellings to
    them); ``attempts``/``max_attempts``: the default and the upper bound of ``attempts``;
    ``tags_alias``: the backend's own word for tags, accepted instead of ``tags`` (not both).
    """
    warnings: list[str] = []
    aliases = dict(skip_aliases or {})
    skip = frozenset(aliases.get(value, value) for value in reader.str_list("skip", choices=(*skippable, *aliases)))
    tries = reader.int("attempts", None, minimum=1, maximum=max_attempts)
    old = reader.int("retries", None, minimum=1, maximum=max_attempts)
    if old is not None:
        if tries is not None:
            raise ConfigError(
                f"{reader.where} sets both attempts and retries (its deprecated name)",
                hint="Keep `attempts` only.",
                context={"key": f"{reader.where}.retries"},
            )
        warnings.append(f"{reader.where}.retries is deprecated: write `attempts: {old}` instead (the same number: attempts per call, the first included)")
        tries = old
    tags = reader.mapping("tags")
    if tags_alias is not None:
        alias = reader.mapping(tags_alias)
        if alias and tags:
            raise ConfigError(
                f"{reader.where} sets both tags and {tags_alias}; they are the same option",
                hint=f"Keep one of them (`{tags_alias}` is this backend's word for `tags`).",
                context={"key": f"{reader.where}.{tags_alias}"},
            )
        tags = tags or alias
    values = {
        "report_only": reader.bool("report_only", False),
        "skip": skip,
        "attempts": attempts if tries is None else tries,
        "wait_timeout": reader.int("wait_timeout", DEFAULT_WAIT_TIMEOUT, minimum=1, maximum=3600) or DEFAULT_WAIT_TIMEOUT,
        "tags": tags,
    }
    return values, warnings

