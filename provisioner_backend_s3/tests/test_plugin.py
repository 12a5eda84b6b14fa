"""The plugin as the system sees it: discovery, lazy imports, the runner, auth, client caching."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from provisioner_core import BEFORE_TERRAFORM_INIT, MANUAL_PROVISION, ClientCache, Status
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.runner import run_event
from support.s3_helpers import ACCESS_KEY, SECRET_KEY, aws_auth, component, run


def test_listing_plugins_imports_no_cloud_sdk():
    code = (
        "import sys, provisioner_backend_s3.plugin as p; p.plugin.register_provisioner(); "
        "bad = [m for m in sys.modules if m.startswith(('boto3', 'botocore', 'google.cloud', 'azure'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_entry_point_is_registered_and_loads():
    (entry,) = [ep for ep in metadata.entry_points(group="provisioner") if ep.name == "backend-s3"]
    assert entry.value == "provisioner_backend_s3.plugin:plugin"

    registry = PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"}).load()
    (found,) = [rp for rp in registry.provisioners() if rp.spec.name == "backend-s3"]
    assert found.spec.type == "backend" and found.spec.backend_types == ("s3",)
    assert set(found.spec.events) == {BEFORE_TERRAFORM_INIT, MANUAL_PROVISION}
    assert found.distribution == "provisioner-backend-s3"


def test_the_runner_calls_it_at_both_events(proxy, bucket, backend_for):
    registry = PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"}).load()
    comp = component(backend_for(bucket))

    planned = run_event(registry, MANUAL_PROVISION, comp, aws_auth(), dry_run=True)
    (created,) = run_event(registry, BEFORE_TERRAFORM_INIT, comp, aws_auth())
    (again,) = run_event(registry, MANUAL_PROVISION, comp, aws_auth())

    assert [o.provisioner for o in planned] == ["backend-s3"] and planned[0].result.status is Status.PLANNED
    assert created.result.status is Status.CREATED and created.event == BEFORE_TERRAFORM_INIT
    assert again.result.status is Status.UNCHANGED
    assert SECRET_KEY not in json.dumps([o.to_dict() for o in (*planned, created, again)])


def test_clients_are_built_once_per_identity_region_and_endpoint(proxy, bucket, backend_for):
    cache = ClientCache()

    run(backend_for(bucket), clients=cache)
    built = cache.misses
    run(backend_for(bucket), clients=cache)

    assert cache.misses == built and cache.hits > 0
    run(backend_for(bucket, region="eu-west-1", endpoints={"s3": proxy.url + "/"}), clients=cache)  # same endpoint, normalised
    assert cache.misses == built
    run(backend_for(bucket), clients=cache, auth=aws_auth("AKIAANOTHERIDENTITY1", "another-secret"))
    assert cache.misses > built  # another identity never reuses a client


def test_assume_role_goes_through_sts_and_uses_the_role_credentials(proxy, admin, bucket, backend_for):
    section = backend_for(
        bucket, assume_role={"role_arn": "arn:aws:iam::123456789012:role/terraform", "session_name": "ci-run", "duration": "1h"}
    )

    result = run(section)

    assert result.status is Status.CREATED
    assert proxy.calls[0].operation == "AssumeRole" and proxy.calls[0].access_key_id == ACCESS_KEY
    s3_keys = {c.access_key_id for c in proxy.calls if c.service == "s3"}
    assert len(s3_keys) == 1 and ACCESS_KEY not in s3_keys  # every S3 call signed with the role's session
    admin().head_bucket(Bucket=bucket)
