"""A test plugin distribution built on provisioner-core's public API only."""
