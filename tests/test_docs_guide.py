"""docs/writing-a-provisioner.md shows exactly the files of examples/provisioner-hello (whose tests CI runs)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "provisioner-hello"


def test_every_file_block_of_the_guide_is_the_examples_file():
    guide = (ROOT / "docs" / "writing-a-provisioner.md").read_text()
    blocks = re.findall(r"```python\n# (\S+)\n(.*?)```", guide, re.S)
    assert {path for path, _ in blocks} == {"src/provisioner_hello/plugin.py", "tests/conftest.py", "tests/test_hello.py"}
    for path, body in blocks:
        assert body == (EXAMPLE / path).read_text(), f"the guide's {path} differs from the example's"
    toml = re.search(r"```toml\n(.*?)```", guide, re.S)
    assert toml is not None and toml.group(1) == (EXAMPLE / "pyproject.toml").read_text()
