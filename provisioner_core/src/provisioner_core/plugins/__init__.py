"""Plugin discovery and registry (pluggy), and core's built-in plugins."""

from provisioner_core.plugins.manager import ENTRY_POINT_GROUP, PluginInfo, PluginRegistry, RegisteredProvisioner

__all__ = ["ENTRY_POINT_GROUP", "PluginInfo", "PluginRegistry", "RegisteredProvisioner"]
