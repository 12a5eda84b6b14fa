"""Root conftest: import our distributions before collection.

pytest's importlib mode names a test file ``provisioner_backend_gcs/tests/test_x.py`` as module
``provisioner_backend_gcs.tests.test_x`` and registers the repository folder as an empty
namespace package ``provisioner_backend_gcs`` when none is imported yet, which would shadow the
installed package. Importing the real packages first keeps them in place.
"""

import importlib

for _name in ("provisioner_core", "provisioner_backend_s3", "provisioner_backend_gcs", "provisioner_backend_azure", "provisioner_component"):
    try:
        importlib.import_module(_name)
    except ImportError:  # a distribution that is not installed has no tests to run either
        pass
