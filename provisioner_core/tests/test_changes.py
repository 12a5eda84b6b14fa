"""ChangeRecorder: one code path for planned, reported and executed writes; OptionReader typing."""

from __future__ import annotations

import pytest

from provisioner_core import ChangeRecorder, ConfigError, OptionReader, Resolution, Status


def test_write_executes_and_status_follows():
    calls = []
    rec = ChangeRecorder("thing")
    rec.write("create", "thing", lambda: calls.append("create"), creates=True)
    rec.write("tag", "thing", lambda: calls.append("tag"))
    assert calls == ["create", "tag"] and rec.result().status == Status.CREATED


def test_failed_create_does_not_count_as_created():
    rec = ChangeRecorder("thing")

    def boom():
        raise RuntimeError("denied")

    with pytest.raises(RuntimeError):
        rec.write("create", "thing", boom, creates=True)
    assert rec.created is False


def test_dry_run_and_report_only_never_call():
    for kwargs, status in (({"dry_run": True}, Status.PLANNED), ({"report_only": True}, Status.UNCHANGED)):
        rec = ChangeRecorder("thing", **kwargs)
        rec.write("update", "thing", lambda: pytest.fail("must not be called"))
        assert rec.result().status == status


def test_drift_resolutions():
    rec = ChangeRecorder("thing")
    assert rec.drifted("versioning", "Enabled", "Suspended", stronger=True) is True
    assert rec.drifted("encryption", "AES256", "aws:kms", stronger=False) is False
    assert [d.resolution for d in rec.drift] == [Resolution.APPLIED, Resolution.KEPT]
    assert "weaken" in rec.drift[1].reason
    planned = ChangeRecorder("thing", dry_run=True)
    planned.drifted("x", True, False, stronger=True)
    assert planned.drift[0].resolution == Resolution.PLANNED and planned.drift[0].expected == "true"


def test_option_reader_types_and_unknown_keys():
    reader = OptionReader({"enabled": True, "retries": 3, "tags": {"A": 1, "B": True}, "skip": "versioning", "tgas": {}}, "provision.backend")
    assert reader.int("retries", 5, minimum=1, maximum=10) == 3
    assert reader.mapping("tags") == {"A": "1", "B": "true"}
    assert reader.str_list("skip", choices=["versioning", "tags"]) == ["versioning"]
    assert reader.read_keys == ["retries", "skip", "tags"]
    assert reader.unknown_keys() == ["provision.backend.tgas is not a known option and was ignored; did you mean 'tags'?"]
    with pytest.raises(ConfigError, match="between 1 and 10"):
        OptionReader({"retries": 11}, "p").int("retries", minimum=1, maximum=10)
    with pytest.raises(ConfigError, match="must be true or false"):
        OptionReader({"x": "yes"}, "p").bool("x", False)
    with pytest.raises(ConfigError, match="is required"):
        OptionReader({}, "p").str("bucket", required=True)


def test_report_only_actions_are_marked_planned_and_amend_last():
    rec = ChangeRecorder("thing", report_only=True)
    rec.write("update", "thing", lambda: None)
    assert rec.actions[0].planned is True
    live = ChangeRecorder("thing")
    live.write("create", "thing", lambda: None, "new", creates=True)
    live.amend_last(detail="created concurrently by another run", created=False)
    assert live.actions[0].detail == "created concurrently by another run" and live.actions[0].planned is False
    assert live.result().status == Status.UPDATED


def test_empty_client_cache_is_truthy():
    from provisioner_core import ClientCache

    cache = ClientCache()
    assert (cache or None) is cache
