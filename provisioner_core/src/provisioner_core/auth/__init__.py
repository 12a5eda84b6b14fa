"""Authentication: AuthContext, the Credentials protocol and the providers plugins register."""

from provisioner_core.auth.context import AuthContext
from provisioner_core.auth.credentials import CredentialProvider, Credentials

__all__ = ["AuthContext", "CredentialProvider", "Credentials"]
