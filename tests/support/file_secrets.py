"""An example secrets plugin for `provision env` (docs/environments.md, "Secrets plugins"): a file-backed store.

It keeps each environment's secrets in one JSON file, ``{environment: {variable: value}}``, outside the
project. A team's Doppler, Vault or SSM plugin implements the same three hooks against its store.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from provisioner_core import hookimpl
from provisioner_env.secrets import SecretStored


class FileSecretStore:
    """The store: ``path`` is a JSON file; ``values`` maps a variable to the value to store (else one is generated)."""

    def __init__(self, path: Path, values: dict[str, str] | None = None) -> None:
        self.path = path
        self.values = values or {}

    def _load(self) -> dict[str, dict[str, str]]:
        return json.loads(self.path.read_text()) if self.path.is_file() else {}

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        self.path.write_text(json.dumps(data, indent=2, sort_keys=True))

    @hookimpl
    def env_secrets_create(self, environment, source, references, config):
        data = self._load()
        entries = data.setdefault(environment, {})
        stored = []
        for ref in references:
            # A new value for the new environment: given (a freshly issued token), or generated (a password). Never the source's.
            entries.setdefault(ref.variable, self.values.get(ref.variable) or secrets.token_urlsafe(24))
            stored.append(SecretStored(ref.variable, f"file-store {self.path.name}:{environment}"))
        self._save(data)
        return stored

    @hookimpl
    def env_secret_value(self, environment, reference, config):
        return self._load().get(environment, {}).get(reference.variable)

    @hookimpl
    def env_secrets_delete(self, environment, references, config):
        data = self._load()
        entries = data.get(environment, {})
        deleted = [ref.variable for ref in references if entries.pop(ref.variable, None) is not None]
        if not entries:
            data.pop(environment, None)
        self._save(data)
        return deleted
