"""provisioner-backend-pg: the PostgreSQL state backend provisioner (``backend-pg``).

Registered in the ``provisioner`` entry-point group; serves ``backend_type: pg`` at
``before.terraform.init`` and for ``provision backend <component> -s <stack>``. Importing this
package never imports psycopg: the driver is loaded only when a provisioner actually runs.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
