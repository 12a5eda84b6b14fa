"""Shared helpers for the benchmarks: timing, generated trees, a local moto server."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # support.servers: the same server helpers as the tests
BIN = Path(sys.executable).parent
PROVISION = str(BIN / "provision")
ENV = {**os.environ, "CHECKPOINT_DISABLE": "1", "AWS_EC2_METADATA_DISABLED": "true"}
# Measure as installed software runs: with bytecode caches (this sandbox sets PYTHONDONTWRITEBYTECODE).
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
KEY_ID, SECRET = "AKIABENCH", "bench-secret-value"


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Median wall time of ``repeat`` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run(argv: Sequence[str], cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), cwd=cwd, env=ENV, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done


def write_yaml(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def s3_tree(root: Path, endpoint: str, stacks: int, components: int, backends: int) -> list[tuple[str, str]]:
    """``stacks`` stacks x ``components`` components; stack i uses bucket ``i % backends``."""
    write_yaml(root / "atmos.yaml", "stacks:\n  base_path: stacks\n  excluded_paths: ['catalog/**']\n  name_pattern: '{stage}'\ncomponents:\n  terraform:\n    base_path: components/terraform\n")
    write_yaml(
        root / "stacks" / "catalog" / "defaults.yaml",
        f"""backend_type: s3
auth: {{providers: {{aws: {{type: static, access_key_id: {KEY_ID}, secret_access_key: {SECRET}}}}}}}
backend:
  s3: {{region: us-east-1, use_lockfile: true, endpoints: {{s3: '{endpoint}'}}, use_path_style: true}}
terraform:
  provision: {{backend: {{enabled: true}}}}
""",
    )
    targets = []
    for i in range(stacks):
        body = [f"import: [catalog/defaults]\nvars: {{stage: s{i:04d}}}\nbackend:\n  s3: {{bucket: bench-backend-{i % backends:03d}}}\ncomponents:\n  terraform:"]
        for c in range(components):
            body.append(f"    c{c}:\n      backend: {{s3: {{key: 's{i:04d}/c{c}.tfstate'}}}}")
            targets.append((f"s{i:04d}", f"c{c}"))
        write_yaml(root / "stacks" / f"s{i:04d}.yaml", "\n".join(body) + "\n")
    return targets


def machine() -> str:
    import platform

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
