"""Benchmark 2: no-op re-provision of one compliant S3 backend vs the equivalent `aws s3api` sequence.

Both against the same moto server. The awscli sequence reads what our no-op check reads:
head-bucket, versioning, encryption, public access block, ownership controls, policy, tagging.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import ENV, KEY_ID, PROVISION, SECRET, machine, run, s3_tree, timed

from support.servers import start_moto

READS = [
    ["head-bucket"],
    ["get-bucket-versioning"],
    ["get-bucket-encryption"],
    ["get-public-access-block"],
    ["get-bucket-ownership-controls"],
    ["get-bucket-policy"],
    ["get-bucket-tagging"],
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    aws = shutil.which("aws")
    if aws is None:
        raise SystemExit("awscli is not installed (pip install awscli)")
    server = start_moto()
    ENV.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1")  # for awscli only
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            s3_tree(root, server.url, 1, 1, 1)
            run([PROVISION, "backend", "c0", "-s", "s0000"], cwd=root)  # create once: later runs are no-ops
            ours = timed(lambda: run([PROVISION, "backend", "c0", "-s", "s0000"], cwd=root), args.repeat)

            def awscli() -> None:
                for read in READS:
                    run([aws, "s3api", *read, "--bucket", "bench-backend-000", "--endpoint-url", server.url], check=False)

            theirs = timed(awscli, args.repeat)
    finally:
        server.stop()
    print(f"machine: {machine()}")
    print(f"provision backend (no-op, one process): {ours:.3f} s (median of {args.repeat})")
    print(f"aws s3api sequence ({len(READS)} processes): {theirs:.3f} s (median of {args.repeat})")
    print(f"speed-up: {theirs / ours:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
