"""provisioner-component: vendor a component's Terraform source just in time, pinned and verified.

The engine (config, uri, git, archive, sources, tree, lock, workdir, vendor) knows nothing of
the plugin API; ``plugin`` (the provisioner, its options, the ``source`` section, the ``git``
credential providers) and ``cli`` (``provision component …``) wire it to provisioner-core's
public contract. One entry point (``[project.entry-points.provisioner]``)::

    component = "provisioner_component.plugin:plugin"
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml: read from the installed metadata when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("provisioner-component")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
