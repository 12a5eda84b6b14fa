"""Atmos-compatible stacks: project config, YAML loading, deep merge and resolution."""
