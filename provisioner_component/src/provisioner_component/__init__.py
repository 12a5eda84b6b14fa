"""provisioner-component: vendor a component's Terraform source just in time, pinned and verified.

The engine (config, uri, git, archive, sources, tree, lock, workdir, vendor, batch) knows
nothing of the plugin API; ``plugin`` and ``cli`` are the thin layers that wire it to
provisioner-core. Entry points (``[project.entry-points.provisioner]``)::

    component = "provisioner_component.plugin:plugin"              # the provisioner
    component-git-auth = "provisioner_component.plugin:git_auth"  # auth.providers.git
"""

__version__ = "0.1.0"
