"""provisioner-backend-pg: the PostgreSQL state backend provisioner (``backend-pg``).

Registered in the ``provisioner`` entry-point group; serves ``backend_type: pg`` at
``before.terraform.init`` and for ``provision backend <component> -s <stack>``. Importing this
package never imports psycopg: the driver is loaded only when a provisioner actually runs.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml: read from the installed metadata when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("provisioner-backend-pg")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
