"""Read YAML files once per run with the C-accelerated safe loader; errors name file and line."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from provisioner_core.errors import ConfigError

# A stack file larger than this is almost certainly a mistake (a generated dump, a binary).
MAX_FILE_BYTES = 8 * 1024 * 1024


def _yaml() -> Any:
    from ruamel.yaml import YAML

    # typ="safe" uses the C extension (CSafeLoader) when it is installed: the fast path.
    return YAML(typ="safe")


class YamlCache:
    """Parsed YAML documents by path, shared by every stack and component of one run."""

    def __init__(self) -> None:
        self._docs: dict[Path, Any] = {}
        self._lock = threading.Lock()
        self._yaml: Any = None
        self.reads = 0

    def load(self, path: Path) -> Any:
        path = Path(os.path.normpath(os.path.abspath(path)))
        with self._lock:
            if path in self._docs:
                return self._docs[path]
        doc = self._parse(path)
        with self._lock:
            self._docs[path] = doc
        return doc

    def _parse(self, path: Path) -> Any:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{path}: file not found", hint="Check the path and the stacks.base_path setting.") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}", hint="Check the file's permissions.") from None
        if len(data) > MAX_FILE_BYTES:
            raise ConfigError(
                f"{path}: file is {len(data) // 1024 // 1024} MiB, over the {MAX_FILE_BYTES // 1024 // 1024} MiB limit for a stack file",
                hint="Split it into smaller files joined with import:, or exclude it with stacks.excluded_paths.",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ConfigError(f"{path}:{line}: not valid UTF-8 text", hint="Save the file as UTF-8.") from None
        if self._yaml is None:
            self._yaml = _yaml()
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        self.reads += 1
        try:
            return self._yaml.load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
            raise ConfigError(f"{where}: YAML syntax error: {problem}", hint="Fix the YAML at that line (indentation, quotes, a missing colon).") from None
        except YAMLError as exc:
            raise ConfigError(f"{path}: YAML error: {' '.join(str(exc).split())}", hint="Fix the YAML in that file.") from None
