"""provisioner-backend-gcs: the ``backend-gcs`` provisioner for Terraform's gcs backend.

Registered in the ``provisioner`` entry-point group::

    [project.entry-points.provisioner]
    backend-gcs = "provisioner_backend_gcs.plugin"

See docs/backends/gcs.md for every option.
"""

__version__ = "0.1.0"
