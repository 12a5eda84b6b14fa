"""provisioner-backend-gcs: the ``backend-gcs`` provisioner for Terraform's gcs backend.

Registered in the ``provisioner`` entry-point group::

    [project.entry-points.provisioner]
    backend-gcs = "provisioner_backend_gcs.plugin"

See docs/backends/gcs.md for every option.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml: read from the installed metadata when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("provisioner-backend-gcs")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
