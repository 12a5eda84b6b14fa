"""provisioner-backend-azurerm: the azurerm state backend provisioner (``backend-azurerm``).

Installed, it registers through ``[project.entry-points.provisioner]`` and runs before
``terraform init`` for components with ``backend_type: azurerm`` and
``provision.backend.enabled: true``. See docs/backends/azure.md.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml: read from the installed metadata when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("provisioner-backend-azurerm")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
