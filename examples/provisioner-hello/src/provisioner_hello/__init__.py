"""provisioner-hello: an example third-party provisioner."""
