"""Start real local servers (moto, GCS emulators, Azurite) on free loopback ports.

Each server runs as a subprocess; ``ServerProcess.stop()`` ends it. Fixtures in
``tests/conftest.py`` and the distributions' conftests wrap these in session scope.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A local server subprocess listening on ``url``."""

    def __init__(self, name: str, argv: Sequence[str], url: str, port: int, env: Mapping[str, str] | None = None, ready_path: str = "/") -> None:
        self.name = name
        self.url = url
        self.port = port
        self._log = open(os.devnull, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            list(argv), stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True
        )
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} before it was ready")
            try:
                urllib.request.urlopen(self.url + path, timeout=1)  # noqa: S310 - loopback only
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is listening
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer at {self.url} within {timeout}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


def _script(name: str) -> str:
    """A console script installed beside the running interpreter (the venv's bin)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def start_moto(env: Mapping[str, str] | None = None) -> ServerProcess:
    """moto_server (S3, DynamoDB, STS, IAM) on a free port."""
    port = free_port()
    return ServerProcess("moto_server", [_script("moto_server"), "-H", "127.0.0.1", "-p", str(port)], f"http://127.0.0.1:{port}", port, env=env, ready_path="/moto-api/")


def reset_moto(url: str) -> None:
    """Forget every resource on a shared moto server (between tests that need a clean slate)."""
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=10)  # noqa: S310


def enforce_iam(url: str, policy: dict, user: str = "limited") -> tuple[str, str]:
    """Create an IAM user with ``policy`` on a moto server, then turn on IAM enforcement there.

    Returns the user's (access key id, secret). From then on every request is checked.
    """
    import json

    import boto3

    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="admin", aws_secret_access_key="admin")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="limited", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    request = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback only
    return key["AccessKeyId"], key["SecretAccessKey"]
