"""provisioner-component: vendor a component's Terraform source just in time, pinned and verified.

The engine (config, uri, git, archive, sources, tree, lock, workdir, vendor) knows nothing of
the plugin API; ``plugin`` (the provisioner, its options, the ``source`` section, the ``git``
credential providers) and ``cli`` (``provision component …``) wire it to provisioner-core's
public contract. One entry point (``[project.entry-points.provisioner]``)::

    component = "provisioner_component.plugin:plugin"
"""

__version__ = "0.1.0"
