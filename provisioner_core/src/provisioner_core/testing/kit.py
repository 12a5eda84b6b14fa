"""The building blocks behind the pytest fixtures, usable without pytest too."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from provisioner_core.cli.console import block_yaml
from provisioner_core.plugins.manager import PluginRegistry


class StackTree:
    """Writes an Atmos-style project: ``atmos.yaml``, stack files, component folders."""

    def __init__(self, root: Path, *, name_pattern: str | None = "{stage}", config: Mapping[str, Any] | None = None) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        stacks: dict[str, Any] = {"base_path": "stacks", "included_paths": ["**/*"], "excluded_paths": ["catalog/**", "mixins/**"]}
        if name_pattern:
            stacks["name_pattern"] = name_pattern
        self.config: dict[str, Any] = {"base_path": ".", "stacks": stacks, "components": {"terraform": {"base_path": "components/terraform"}}}
        if config:
            self.config.update(config)
        self.write_config()

    def write_config(self) -> Path:
        return self.file("atmos.yaml", self.config)

    def file(self, relative: str, content: Any) -> Path:
        """Write ``content`` (a mapping is dumped as YAML, a string as is) under the root."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else block_yaml(content))
        return path

    def stack(self, name: str, content: Mapping[str, Any] | str) -> Path:
        """``stacks/<name>.yaml``; ``name`` may contain folders (``orgs/acme/dev``)."""
        return self.file(f"stacks/{name}.yaml", content)

    def component(self, name: str, main_tf: str = 'output "ok" { value = true }\n') -> Path:
        folder = self.root / "components" / "terraform" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "main.tf").write_text(main_tf)
        return folder

    @contextlib.contextmanager
    def cwd(self) -> Iterator[Path]:
        previous = Path.cwd()
        os.chdir(self.root)
        try:
            yield self.root
        finally:
            os.chdir(previous)


@frozen
class CliResult:
    """What one ``provision`` invocation printed and returned."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class CliRunner:
    """Runs ``provision`` in-process for a project folder, and checks its exit code.

    ``cwd`` is the project's folder (its ``atmos.yaml``/``provisioner.yaml`` is found there, as
    if ``provision`` ran in it; nothing changes the process's working directory); ``registry``
    is the plugin registry to use (default: every installed plugin). Output and environment are
    isolated with click's own test runner.
    """

    def __init__(self, cwd: Path | None = None, registry: PluginRegistry | None = None) -> None:
        self.cwd = cwd
        self.registry = registry

    def run(self, args: Sequence[str], *, exit_code: int | None = 0, env: Mapping[str, str] | None = None) -> CliResult:
        """Run ``provision ARGS``; assert the exit code unless ``exit_code`` is None (default: 0, success)."""
        __tracebackhide__ = True  # a failed exit-code check points at the test's line, not at ours
        import click.testing

        from provisioner_core.cli.main import main
        from provisioner_core.cli.state import CliState

        runner = click.testing.CliRunner()
        code = 0
        with runner.isolation(env=dict(env or {})) as streams:
            try:
                main(list(args), state=CliState(None, "--debug" in args, self.registry, cwd=self.cwd))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            # Read inside: click before 8.3.2 closes the captured streams when the isolation ends.
            out, err = streams[0].getvalue().decode(), streams[1].getvalue().decode()
        result = CliResult(code, out, err)
        if exit_code is not None and result.exit_code != exit_code:
            raise AssertionError(f"exit code {result.exit_code}, expected {exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result
