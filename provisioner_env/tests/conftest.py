"""Fixtures for the env distribution's own tests."""

from __future__ import annotations

import sys

# pytest's importlib mode names these files "provisioner_env.tests.*" and registers the distribution
# folder provisioner_env/ as that package (a namespace without modules); put the installed one back.
if getattr(sys.modules.get("provisioner_env"), "__file__", None) is None:
    sys.modules.pop("provisioner_env", None)
    import provisioner_env  # noqa: F401
