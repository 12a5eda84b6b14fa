"""Signals during `provision terraform apply` (issue 16, item 8), with the real terraform binary.

terraform's apply blocks in a `local-exec` provisioner reading a FIFO the test controls, with the local
backend's state lock held. The test knows this from terraform's own output line, sends the signal to
`provision` alone (it runs in its own session, as a CI runner's `kill <pid>` reaches it), and checks that
terraform heard it once and stopped gracefully (lock released), that the generated var file is gone, and
that the exit code is 128 + the signal's number.
"""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from support.child import Child
from support.s3_reliability import clean_env, provision_argv

pytestmark = pytest.mark.terraform

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
MAIN_TF = """
variable "stage" { type = string }
resource "terraform_data" "wait" {
  input = var.stage
  provisioner "local-exec" {
    command = "echo gate-reached; exec cat ${path.module}/gate.fifo"
  }
}
"""


@pytest.fixture
def project(stack_tree):
    folder = stack_tree.component("app", MAIN_TF)
    os.mkfifo(folder / "gate.fifo")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"backend_type": "local", "backend": {"local": {}}}}}})
    stack_tree.folder = folder
    yield stack_tree
    # Should terraform not have stopped its provisioner, end the reader of the FIFO (EOF): nothing outlives the test.
    with contextlib.suppress(OSError):
        os.close(os.open(folder / "gate.fifo", os.O_WRONLY | os.O_NONBLOCK))


def _locks(folder):
    """The local backend's lock files (``.<state file>.lock.info`` beside the workspace's state)."""
    return sorted(folder.rglob(".*.lock.info"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_during_apply_reaches_terraform_once_and_the_var_file_is_removed(project, signum):
    varfile = project.folder / "dev-app.terraform.tfvars.json"
    child = Child(provision_argv("terraform", "apply", "app", "-s", "dev", "--auto-approve"), project.root, clean_env())
    try:
        child.wait_for("gate-reached", stream="stdout")  # terraform is inside apply, holding the state lock
        assert _locks(project.folder) and varfile.exists()
        child.send(signum)
        code = child.finish()
    finally:
        child.kill()
    name = signal.Signals(signum).name
    output = child.stdout + child.stderr
    assert code == EXIT[signum], output
    assert "Gracefully shutting down" in output and "Two interrupts received" not in output  # terraform heard it once
    assert _locks(project.folder) == [], "terraform did not release its state lock"
    assert not varfile.exists(), "the generated var file was left behind"
    assert (project.folder / "backend.tf.json").exists()  # kept on purpose: plain terraform keeps working there
    assert f"Interrupted ({name}): passed on to terraform" in child.stderr
    errors = [line for line in child.stderr.splitlines() if line.startswith("Error: interrupted")]
    assert errors == [f"Error: interrupted by {name} while terraform apply ran; it was passed the signal and stopped (exit 1)"], child.stderr
    assert "Traceback" not in output
    if signum == signal.SIGHUP:
        # terraform dies on SIGHUP itself: it was sent SIGTERM instead, so the state is usable at once.
        rerun = Child(provision_argv("terraform", "plan", "app", "-s", "dev"), project.root, clean_env())
        assert rerun.finish() == 0, rerun.stderr
