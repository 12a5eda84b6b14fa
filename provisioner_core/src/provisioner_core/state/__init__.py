"""Where a component's state lives: its workspace, its backend's default location, the collision guard."""

from provisioner_core.state.location import StateLocation, locate
from provisioner_core.state.workspace import DEFAULT_WORKSPACE

__all__ = ["DEFAULT_WORKSPACE", "StateLocation", "locate"]
