"""Authentication: AuthContext and the per-cloud credential values."""

from provisioner_core.auth.context import AuthContext
from provisioner_core.auth.credentials import AwsCredentials, AzureCredentials, GcpCredentials

__all__ = ["AuthContext", "AwsCredentials", "AzureCredentials", "GcpCredentials"]
