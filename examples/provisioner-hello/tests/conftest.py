# provisioner-core's pytest kit: opt in (pip install "provisioner-core[testing]").
pytest_plugins = ["provisioner_core.testing"]
