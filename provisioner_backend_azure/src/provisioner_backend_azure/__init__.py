"""provisioner-backend-azurerm: the azurerm state backend provisioner (``backend-azurerm``).

Installed, it registers through ``[project.entry-points.provisioner]`` and runs before
``terraform init`` for components with ``backend_type: azurerm`` and
``provision.backend.enabled: true``. See docs/backends/azure.md.
"""

__version__ = "0.1.0"
