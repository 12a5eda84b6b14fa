"""provisioner-backend-s3: the S3 state backend provisioner (``backend-s3``).

Registered in the ``provisioner`` entry-point group; serves ``backend_type: s3`` at
``before.terraform.init`` and for ``provision backend <component> -s <stack>``. Importing this
package never imports boto3 (it uses botocore directly, and only when a provisioner actually runs).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
