"""What core knows about a ``backend_type``: only what the plugin that serves it registers.

A :class:`BackendType` says which settings name the storage and which place one component's
state inside it, how Atmos fills those when a stack does not, which object a workspace's
state is, which settings are secrets terraform must read from its environment, the name
rules of the resources it names, and how to read a state object. Core registers terraform's
own ``local`` and ``http`` types the same way (``plugins/builtin/backends``). A type nobody
registered is compared by all of its settings, so two components are only ever one state
when their settings are identical.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from provisioner_core.redaction import is_secret_entry

if TYPE_CHECKING:
    from provisioner_core.auth.context import AuthContext
    from provisioner_core.cache import ClientCache
    from provisioner_core.stacks.component import ResolvedComponent


@frozen
class DefaultsContext:
    """What the default-location rule of a backend type may use."""

    component: str  # the component's name in its stack
    base_component: str  # metadata.component when it names another folder, else ""
    metadata_name: str  # metadata.name, else ""
    separator: str  # components.terraform.workspace.prefix_separator (Atmos: "-")
    global_backend: Mapping[str, Any] = field(factory=dict)  # the stack-level backend.<type> section
    own_backend: Mapping[str, Any] = field(factory=dict)  # the component's own backend.<type> section

    @property
    def prefix(self) -> str:
        """Atmos's name for the component's state: metadata.name > metadata.component > component."""
        name = self.metadata_name or self.base_component or self.component
        return name if self.separator == "/" else name.replace("/", self.separator)


@frozen
class NameRule:
    """A provider's limits on one kind of resource name (checked before anything is written)."""

    max_length: int
    min_length: int = 1
    pattern: str | None = None  # the whole name must match
    allowed: str = ""  # the pattern in words, for the error
    kind: str = ""  # what the name names, e.g. the terraform resource type, for the error

    def problems(self, name: str) -> list[str]:
        found = []
        if len(name) > self.max_length:
            found.append(f"is {len(name)} characters, over the limit of {self.max_length}")
        elif len(name) < self.min_length:
            found.append(f"is {len(name)} characters, under the minimum of {self.min_length}")
        if self.pattern is not None and not re.fullmatch(self.pattern, name):
            found.append(f"has characters or a form not allowed ({self.allowed})")
        return found


DefaultsRule = Callable[[MutableMapping[str, Any], DefaultsContext], None]
ObjectRule = Callable[[Mapping[str, Any], str], str]
# Settings -> the storage's name, when it must be parsed out of them (e.g. host/database of a connection string).
StorageRule = Callable[[Mapping[str, Any]], str]
# Settings -> secrets hidden inside values (a password in a connection string), for redaction.
SecretsRule = Callable[[Mapping[str, Any]], "Iterable[str]"]
# (settings, auth) -> the variables terraform needs for this backend (replacing secret_env's plain move).
EnvRule = Callable[[Mapping[str, Any], "AuthContext"], Mapping[str, str]]
# The backend settings' own credentials, as auth providers: {provider name: provider settings}.
AuthRule = Callable[[Mapping[str, Any]], "Mapping[str, Mapping[str, Any]]"]
# Reads the component's state object through its backend: its bytes, or None when there is none.
StateReader = Callable[["ResolvedComponent", "AuthContext", "ClientCache"], "bytes | None"]


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value)


def _dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@frozen
class BackendType:
    """One ``backend_type`` value and its rules, as the plugin serving it registers them.

    ``location_keys`` come first-most-important: the first is the setting a tool changes to
    give a component its own state (``key``, ``prefix``).
    """

    name: str
    scheme: str = ""  # how an address starts, e.g. "local:"
    address_keys: tuple[str, ...] = field(default=(), converter=_tuple)  # settings shown after the scheme
    identity_keys: tuple[str, ...] = field(default=(), converter=_tuple)  # settings that name the storage itself
    location_keys: tuple[str, ...] = field(default=(), converter=_tuple)  # settings that place one state inside it
    state_object: ObjectRule | None = None  # (settings, workspace) -> the state object's path
    apply_defaults: DefaultsRule | None = None  # fills Atmos's defaults in place
    workspaces: bool = True  # False: terraform has no workspaces for this backend (http)
    secret_env: Mapping[str, str] = field(factory=dict, converter=_dict)  # secret setting -> variable terraform reads it from
    name_rules: Mapping[str, NameRule] = field(factory=dict, converter=_dict)  # setting -> rule for the name it holds
    read_state: StateReader | None = None
    description: str = ""
    storage: StorageRule | None = None  # instead of address_keys, when the storage's name must be parsed
    secret_values: SecretsRule | None = None  # secrets inside settings, masked in every output
    terraform_env: EnvRule | None = None  # what terraform needs in its environment for this backend
    # Settings holding a URL (a dotted path for a nested one) -> the variable terraform also reads it from:
    # a URL that carries credentials (user:password@) goes there instead of backend.tf.json.
    url_env: Mapping[str, str] = field(factory=dict, converter=_dict)
    # Credentials written in the backend section (e.g. a profile or static keys) as auth providers,
    # used for a provider name that auth.providers does not configure (docs/configuration.md).
    auth_from_settings: AuthRule | None = None

    @property
    def location_hint(self) -> str:
        """The settings a user changes to move one component's state, for error hints."""
        keys = self.location_keys or ("key",)
        return " or ".join(f"backend.{self.name}.{key}" for key in keys)


def public_settings(settings: Mapping[str, Any]) -> str:
    """Settings without secrets, as one canonical string (the identity of an unknown backend type)."""
    return json.dumps({k: v for k, v in sorted(settings.items()) if not is_secret_entry(k, v)}, sort_keys=True, default=str)


def install_hint(backend_type: str) -> str:
    """Where a provisioner for a backend type comes from, by the project's naming rule."""
    return f"pip install provisioner-backend-{backend_type}"
