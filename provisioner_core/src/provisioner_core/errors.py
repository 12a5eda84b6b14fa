"""One error hierarchy: message, hints, context and the documented exit code.

Exit codes: 0 success or idempotent, 1 general, 2 configuration, 3 permission,
4 resource conflict, 5 network; 128 + n after signal n (``interrupts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

EXIT_OK = 0
EXIT_GENERAL = 1
EXIT_CONFIG = 2
EXIT_PERMISSION = 3
EXIT_CONFLICT = 4
EXIT_NETWORK = 5

EXIT_CODE_NAMES: Mapping[int, str] = {
    EXIT_OK: "success",
    EXIT_GENERAL: "general",
    EXIT_CONFIG: "configuration",
    EXIT_PERMISSION: "permission",
    EXIT_CONFLICT: "conflict",
    EXIT_NETWORK: "network",
}


class ProvisionerError(Exception):
    """Base of every error the CLI renders as ``Error:``/``Hint:``/``Context:`` lines."""

    exit_code: ClassVar[int] = EXIT_GENERAL

    def __init__(
        self,
        message: str,
        *,
        hint: str | Iterable[str] | None = None,
        context: Mapping[str, Any] | None = None,
        exit_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if hint is None:
            self.hints: tuple[str, ...] = ()
        elif isinstance(hint, str):
            self.hints = (hint,)
        else:
            self.hints = tuple(hint)
        self.context: dict[str, Any] = dict(context or {})
        if exit_code is not None:
            # An instance may carry a more precise code than its class (e.g. a wrapped cause).
            self.exit_code = exit_code  # type: ignore[misc]

    def with_context(self, **context: Any) -> ProvisionerError:
        """Add context keys that are not already set; returns self for chaining."""
        for key, value in context.items():
            self.context.setdefault(key, value)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "hints": list(self.hints),
            "context": {k: _plain(v) for k, v in self.context.items()},
            "exit_code": self.exit_code,
        }

    def __str__(self) -> str:
        return self.message


class ConfigError(ProvisionerError):
    """Bad or missing configuration: exit 2."""

    exit_code = EXIT_CONFIG


class PermissionDenied(ProvisionerError):
    """The identity lacks a permission: exit 3."""

    exit_code = EXIT_PERMISSION


class ResourceConflict(ProvisionerError):
    """A name is taken by someone else, or the resource is in a conflicting state: exit 4."""

    exit_code = EXIT_CONFLICT


class NetworkError(ProvisionerError):
    """An endpoint could not be reached or kept timing out: exit 5."""

    exit_code = EXIT_NETWORK


class ProvisionerFailed(ProvisionerError):
    """A provisioner failed at an event; names the provisioner, event and distribution."""

    def __init__(
        self,
        *,
        provisioner: str,
        provisioner_type: str,
        event: str,
        distribution: str,
        cause: BaseException,
    ) -> None:
        if isinstance(cause, ProvisionerError):
            detail = cause.message
            hints: tuple[str, ...] = cause.hints
            context = dict(cause.context)
            code = cause.exit_code
        else:
            detail = f"unexpected {type(cause).__name__}: {cause}"
            hints = (f"This is a bug in {distribution}; please report it to the plugin's authors.",)
            context = {}
            code = EXIT_GENERAL
        super().__init__(
            f"provisioner '{provisioner_type}' ({provisioner}, from {distribution}) failed at {event}: {detail}",
            hint=hints,
            context=context,
            exit_code=code,
        )
        self.provisioner = provisioner
        self.provisioner_type = provisioner_type
        self.event = event
        self.distribution = distribution
        self.cause = cause


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
