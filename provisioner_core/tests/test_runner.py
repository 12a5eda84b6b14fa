"""The PRD's hook-integration tests: enabled-only, ordered, fail-fast, attributed, timed."""

from __future__ import annotations

import time

import pytest

from provisioner_core import (
    AuthContext,
    ConfigError,
    PermissionDenied,
    ProvisionerFailed,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    Status,
    hookimpl,
)
from provisioner_core.runner import EventFailed, run_event, select

INIT = "before.terraform.init"


def component(**provision):
    return ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", provision=provision)


def recorder(name, calls, *, fail=None, returns=None, tryfirst=False, trylast=False, ptype=None, sleep=0.0):
    class Plugin:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name=name, type=ptype or name, events=(INIT,), description=f"records {name}")

        @staticmethod
        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def before_terraform_init(component, options, event, spec):
            calls.append((spec.name, event, dict(options)))
            if sleep:
                time.sleep(sleep)
            if fail is not None:
                raise fail
            return returns if returns is not None else ProvisionResult(status=Status.CREATED, resource=name)

    return Plugin


def test_execute_provisioner_hooks(provisioner_registry, register_plugin):
    calls = []
    register_plugin(recorder("alpha", calls), name="alpha")
    outcomes = run_event(provisioner_registry, INIT, component(alpha={"enabled": True, "size": 3}), AuthContext())
    assert calls == [("alpha", INIT, {"enabled": True, "size": 3})]
    assert [(o.provisioner, o.result.status, o.distribution, o.event) for o in outcomes] == [("alpha", Status.CREATED, "test-plugin", INIT)]
    assert outcomes[0].duration_s >= 0


def test_execute_provisioner_hooks_provisioner_disabled(provisioner_registry, register_plugin):
    calls = []
    register_plugin(recorder("alpha", calls), name="alpha")
    assert run_event(provisioner_registry, INIT, component(alpha={"enabled": False}), AuthContext()) == []
    assert run_event(provisioner_registry, INIT, component(), AuthContext()) == []
    assert calls == []


def test_enabled_must_be_a_real_boolean(provisioner_registry, register_plugin):
    register_plugin(recorder("alpha", []), name="alpha")
    with pytest.raises(ConfigError, match='enabled must be true or false') as info:
        run_event(provisioner_registry, INIT, component(alpha={"enabled": "yes"}), AuthContext())
    assert info.value.exit_code == 2


def test_execute_provisioner_hooks_provisioner_fails(provisioner_registry, register_plugin):
    calls = []
    register_plugin(recorder("alpha", calls, fail=PermissionDenied("AccessDenied on CreateBucket", hint="grant s3:CreateBucket")), name="alpha")
    register_plugin(recorder("beta", calls), name="beta")
    with pytest.raises(EventFailed) as info:
        run_event(provisioner_registry, INIT, component(alpha={"enabled": True}, beta={"enabled": True}), AuthContext())
    error = info.value
    assert isinstance(error, ProvisionerFailed)
    assert error.exit_code == 3  # the provisioner's own code passes through
    assert "provisioner 'alpha'" in error.message and INIT in error.message and "test-plugin" in error.message
    assert error.hints == ("grant s3:CreateBucket",)
    assert [c[0] for c in calls] == ["alpha"], "nothing after a failure runs"


def test_unexpected_exception_exits_1_and_names_the_plugin(provisioner_registry, register_plugin):
    register_plugin(recorder("alpha", [], fail=KeyError("boom")), name="alpha", distribution="acme-alpha")
    with pytest.raises(EventFailed) as info:
        run_event(provisioner_registry, INIT, component(alpha={"enabled": True}), AuthContext())
    assert info.value.exit_code == 1
    assert "acme-alpha" in info.value.message and "KeyError" in info.value.message
    assert "report it" in info.value.hints[0]


def test_execute_provisioner_hooks_multiple_provisioners_in_documented_order(provisioner_registry, register_plugin):
    calls = []
    register_plugin(recorder("zeta", calls), name="zeta")
    register_plugin(recorder("beta", calls), name="beta")
    register_plugin(recorder("last", calls, trylast=True, ptype="aaa"), name="last")
    register_plugin(recorder("first", calls, tryfirst=True, ptype="zzz"), name="first")
    enabled = {t: {"enabled": True} for t in ("zeta", "beta", "aaa", "zzz")}
    outcomes = run_event(provisioner_registry, INIT, component(**enabled), AuthContext())
    # tryfirst, then unmarked by type name, then trylast: never registration order.
    assert [c[0] for c in calls] == ["first", "beta", "zeta", "last"]
    assert [o.provisioner for o in outcomes] == ["first", "beta", "zeta", "last"]


def test_wrong_return_type_is_reported_with_the_plugin(provisioner_registry, register_plugin):
    register_plugin(recorder("alpha", [], returns="done"), name="alpha")
    with pytest.raises(EventFailed, match="returned str, expected ProvisionResult"):
        run_event(provisioner_registry, INIT, component(alpha={"enabled": True}), AuthContext())


def test_hanging_provisioner_times_out_with_exit_5(provisioner_registry, register_plugin):
    register_plugin(recorder("slow", [], sleep=2.0), name="slow")
    started = time.monotonic()
    with pytest.raises(EventFailed, match="timed out after 0.2s") as info:
        run_event(provisioner_registry, INIT, component(slow={"enabled": True, "timeout": 0.2}), AuthContext())
    assert time.monotonic() - started < 1.5
    assert info.value.exit_code == 5


def test_outcomes_before_a_failure_are_kept_on_the_error(provisioner_registry, register_plugin):
    register_plugin(recorder("alpha", []), name="alpha")
    register_plugin(recorder("beta", [], fail=ConfigError("bad")), name="beta")
    with pytest.raises(EventFailed) as info:
        run_event(provisioner_registry, INIT, component(alpha={"enabled": True}, beta={"enabled": True}), AuthContext())
    assert [o.provisioner for o in info.value.outcomes] == ["alpha"]


def test_select_respects_backend_types(provisioner_registry, register_plugin):
    class S3:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name="backend-s3", type="backend", events=(INIT,), description="s3", backend_types=("s3",))

        @staticmethod
        @hookimpl
        def before_terraform_init():
            return None

    register_plugin(S3)
    on_s3 = ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", backend_type="s3", provision={"backend": {"enabled": True}})
    on_gcs = ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", backend_type="gcs", provision={"backend": {"enabled": True}})
    assert [rp.spec.name for rp in select(provisioner_registry, INIT, on_s3)] == ["backend-s3"]
    assert select(provisioner_registry, INIT, on_gcs) == []


def test_wrapper_hooks_still_wrap_each_provisioner(provisioner_registry, register_plugin):
    seen = []

    class Around:
        @staticmethod
        @hookimpl(wrapper=True)
        def before_terraform_init(spec):
            seen.append(("before", spec.name))
            result = yield
            seen.append(("after", spec.name))
            return result

    register_plugin(recorder("alpha", []), name="alpha")
    register_plugin(Around, name="around")
    run_event(provisioner_registry, INIT, component(alpha={"enabled": True}), AuthContext())
    assert seen == [("before", "alpha"), ("after", "alpha")]


def test_provision_component_runs_a_caller_built_component_with_the_same_checks(provisioner_registry, register_plugin, tmp_path):
    from provisioner_core import ProjectConfig, Provisioning

    calls = []
    register_plugin(recorder("alpha", calls, ptype="alpha"), name="alpha")
    provisioning = Provisioning(ProjectConfig(root=tmp_path, file=None, stacks_base_path=tmp_path / "stacks", terraform_base_path=tmp_path), provisioner_registry)
    built = ResolvedComponent(stack="feature-x", name="terraform", terraform_component=".", vars={"db_password": "built-secret-1"},
                              provision={"alpha": {"enabled": True}})
    outcomes = provisioning.provision_component("alpha", built, dry_run=True)
    assert [(o.provisioner, o.stack, o.component) for o in outcomes] == [("alpha", "feature-x", "terraform")]
    assert "built-secret-1" not in provisioning.redactor("built-secret-1")  # its secrets join the run's redactor
    with pytest.raises(ConfigError, match="provisioner 'alpha' is not enabled"):
        provisioning.provision_component("alpha", ResolvedComponent(stack="feature-x", name="t", terraform_component="."))
    with pytest.raises(ConfigError, match="unknown provisioner type 'alpah'"):
        provisioning.provision_component("alpah", built)
