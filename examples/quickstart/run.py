"""The quickstart: an embedded local S3 endpoint, then `provision terraform apply` in dev, twice.

Run it with `scripts/quickstart` from the repository root (it installs what it needs first).
It works on a copy of this folder in a temporary directory, so nothing here is modified.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROVISION = str(Path(sys.executable).parent / "provision")
ACCESS_KEY, SECRET_KEY = "AKIAQUICKSTART", "quickstart-local-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def provision(*args: str, cwd: Path) -> None:
    print(f"$ provision {' '.join(args)}", flush=True)
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    if not Path(env.get("TF_CLI_CONFIG_FILE", "/")).is_file():
        env.pop("TF_CLI_CONFIG_FILE", None)  # a setting naming a missing file only makes terraform warn
    code = subprocess.run([PROVISION, *args], cwd=cwd, env=env).returncode
    if code != 0:
        sys.exit(f"quickstart: `provision {' '.join(args)}` exited with {code}")


def show_bucket(endpoint: str, bucket: str, key: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    print(f"bucket {bucket}:")
    print(f"  versioning: {versioning}")
    print(f"  encryption: {rule['ApplyServerSideEncryptionByDefault']['SSEAlgorithm']} (bucket key: {rule.get('BucketKeyEnabled', False)})")
    print(f"  public access block: {', '.join(k for k, v in block.items() if v)}")
    print(f"  tags: {', '.join(f'{k}={v}' for k, v in sorted(tags.items()))}")
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        print(f"  object: {obj['Key']} ({obj['Size']} bytes){'  <- the state terraform wrote' if obj['Key'] == key else ''}")


def main() -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines in the walkthrough

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    step(f"Starting a local S3 endpoint (moto) at {endpoint}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    work = Path(tempfile.mkdtemp(prefix="provisioner-quickstart-"))
    try:
        project = work / "quickstart"
        shutil.copytree(HERE, project, ignore=shutil.ignore_patterns("run.py", ".terraform", "__pycache__", "*.tfvars.json", "backend.tf.json"))
        mixin = project / "stacks" / "mixins" / "local-endpoint.yaml"
        mixin.write_text(mixin.read_text().replace("http://127.0.0.1:4566", endpoint))
        print(f"project copied to {project}")

        step("The stacks provisioner sees")
        provision("list", "components", cwd=project)

        step("What it would do for dev (dry run: no write call)")
        provision("backend", "app", "-s", "dev", "--dry-run", cwd=project)

        step("Provision the backend, then terraform init + apply, in one command")
        provision("terraform", "apply", "app", "-s", "dev", "--auto-approve", cwd=project)

        step("What is in the endpoint now")
        show_bucket(endpoint, "acme-dev-tfstate", "app/dev/terraform.tfstate")

        step("Run it again: the backend is unchanged (no write call) and terraform has nothing to do")
        provision("backend", "app", "-s", "dev", cwd=project)
        provision("terraform", "plan", "app", "-s", "dev", "--", "-detailed-exitcode", cwd=project)

        step("Done. Try staging next: provision terraform apply app -s staging --auto-approve")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        print("local S3 endpoint stopped")


if __name__ == "__main__":
    main()
