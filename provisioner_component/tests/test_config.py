"""Reading sources: go-getter addresses, the three configuration forms, refusals with exit 2."""

from __future__ import annotations

import pytest

from provisioner_component.config import ComponentSource, parse_duration, parse_size, resolve_source
from provisioner_component.uri import parse_address, redact_url
from provisioner_core import ConfigError


def source(options: dict, atmos: object = None) -> ComponentSource:
    found = resolve_source({"enabled": True, **options}, atmos)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("text", "location", "subdir", "ref"),
    [
        ("git::https://github.com/cloudposse/terraform-aws-components.git//modules/vpc?ref=1.398.0",
         "https://github.com/cloudposse/terraform-aws-components.git", "modules/vpc", "1.398.0"),
        ("github.com/cloudposse/terraform-aws-components//modules/vpc?ref=1.450.0",
         "https://github.com/cloudposse/terraform-aws-components.git", "modules/vpc", "1.450.0"),
        ("github.com/acme/mods/modules/vpc?ref=v1", "https://github.com/acme/mods.git", "modules/vpc", "v1"),
        ("git::ssh://git@github.com/acme/mods.git//vpc?ref=main", "ssh://git@github.com/acme/mods.git", "vpc", "main"),
        ("git@github.com:acme/mods.git//vpc?ref=v2", "git@github.com:acme/mods.git", "vpc", "v2"),
        ("git::file:///srv/repos/mods//modules/vpc?ref=v1", "file:///srv/repos/mods", "modules/vpc", "v1"),
        ("https://git.example.com/acme/mods.git?ref=v3", "https://git.example.com/acme/mods.git", "", "v3"),
        ("git::https://host/acme/mods.git///?ref=v1", "https://host/acme/mods.git", "", "v1"),
        ("git::https://host/acme/mods.git", "https://host/acme/mods.git", "", None),
    ],
)
def test_git_addresses(text: str, location: str, subdir: str, ref: str | None) -> None:
    address = parse_address(text, where="source")
    assert (address.kind, address.location, address.subdir, address.ref) == ("git", location, subdir, ref)


@pytest.mark.parametrize(
    ("text", "kind", "fmt"),
    [
        ("https://example.com/vpc-1.2.0.tar.gz", "archive", "tar.gz"),
        ("https://example.com/vpc-1.2.0.tgz//modules/vpc", "archive", "tar.gz"),
        ("https://example.com/vpc.zip?checksum=sha256:" + "a" * 64, "archive", "zip"),
        ("https://example.com/download?id=7&archive=tar.gz", "archive", "tar.gz"),
        ("./vendor-src/vpc.tar.gz", "archive", "tar.gz"),
        ("./vendor-src/vpc", "local", None),
        ("vendor-src/vpc", "local", None),
        ("/abs/vpc", "local", None),
        ("file:///abs/vpc", "local", None),
    ],
)
def test_archive_and_local_addresses(text: str, kind: str, fmt: str | None) -> None:
    address = parse_address(text, where="source")
    assert (address.kind, address.archive_format) == (kind, fmt)


def test_archive_keeps_other_query_parameters_and_takes_the_checksum_out() -> None:
    address = parse_address("https://example.com/download?id=7&archive=zip&checksum=sha256:" + "B" * 64, where="source")
    assert address.location == "https://example.com/download?id=7"
    assert address.checksum == "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("s3::https://s3.amazonaws.com/bucket/vpc.zip", "s3::"),
        ("gcs::https://www.googleapis.com/storage/v1/bucket/vpc", "gcs::"),
        ("oci://public.ecr.aws/cloudposse/components/vpc", "oci://"),
        ("hg::https://example.com/repo", "hg::"),
        ("s3://bucket/vpc.zip", "s3://"),
        ("bitbucket.org/acme/vpc", "bitbucket.org"),
    ],
)
def test_unknown_schemes_exit_2_naming_them(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_address(text, where="source")
    assert caught.value.exit_code == 2
    assert named in caught.value.message and "not supported yet" in caught.value.message


def test_registry_address_is_named_when_no_such_folder_exists(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="Terraform registry address, which is not supported yet"):
        engine.vendor("dev", "label", {"source": "cloudposse/label/null"})


@pytest.mark.parametrize("ref", ["-oProxyCommand=evil", "v1..v2", "main@{1}", "has space", "x.lock"])
def test_refs_that_could_be_options_or_odd_are_refused(ref: str) -> None:
    with pytest.raises(ConfigError, match="not a git ref we accept"):
        parse_address(f"git::https://host/r.git?ref={ref}", where="source")


def test_scp_address_cannot_smuggle_an_option() -> None:
    with pytest.raises(ConfigError):
        parse_address("-oProxyCommand=x@host:path", where="source")


def test_subfolder_may_not_climb() -> None:
    with pytest.raises(ConfigError, match="must stay inside the source"):
        parse_address("git::https://host/r.git//../etc?ref=v1", where="source")


def test_url_credentials_leave_the_url_and_are_masked() -> None:
    address = parse_address("git::https://bot:s3cr3t-token@git.example.com/acme/mods.git?ref=v1", where="source")
    assert address.location == "https://git.example.com/acme/mods.git"
    assert (address.username, address.password) == ("bot", "s3cr3t-token")
    assert "s3cr3t" not in repr(address)
    assert redact_url("git::https://bot:s3cr3t-token@host/x.git") == "git::https://***@host/x.git"
    assert redact_url("https://ghp_abcdefgh@host/x.git") == "https://***@host/x.git"


def test_the_three_forms_give_one_source() -> None:
    uri = "git::https://github.com/cloudposse/terraform-aws-components.git//modules/vpc?ref=1.398.0"
    ours = source({"source": uri})
    prd = resolve_source({"vendor": True, "source": uri})
    atmos_string = resolve_source({}, uri)
    atmos_map = resolve_source({}, {"uri": "github.com/cloudposse/terraform-aws-components//modules/vpc", "version": "1.398.0"})
    assert prd is not None and atmos_string is not None and atmos_map is not None
    assert ours.identity() == prd.identity() == atmos_string.identity() == atmos_map.identity()
    assert (ours.form, atmos_map.form) == ("provision.component", "source")


def test_atmos_map_form_filters_type_and_ttl() -> None:
    found = resolve_source(
        {},
        {"uri": "https://git.example.com/mods.git//vpc", "type": "git", "version": "main", "ttl": "1h",
         "included_paths": ["**/*.tf"], "excluded_paths": ["**/test/**"], "retry": {"max_attempts": 3, "initial_delay": "1s"}},
    )
    assert found is not None
    assert (found.kind, found.ref, found.ttl_s, found.retry.max_attempts) == ("git", "main", 3600.0, 3)
    assert (found.included, found.excluded) == (("**/*.tf",), ("**/test/**",))


def test_atmos_oci_type_is_not_supported_yet() -> None:
    with pytest.raises(ConfigError, match="oci sources are not supported yet"):
        resolve_source({}, {"uri": "public.ecr.aws/cloudposse/vpc", "type": "oci", "version": "1.0"})


def test_version_is_appended_only_without_a_ref_in_the_address() -> None:
    found = resolve_source({}, {"uri": "git::https://h/r.git?ref=v1", "version": "v2"})
    assert found is not None and found.ref == "v1"
    assert any("version 'v2' is ignored" in w for w in found.warnings)


def test_negated_included_paths_become_exclusions() -> None:
    found = source({"source": "./src", "included_paths": ["**/*.tf", "!**/test/**"]})
    assert (found.included, found.excluded) == (("**/*.tf",), ("**/test/**",))


def test_vendor_false_means_nothing_to_vendor() -> None:
    assert resolve_source({"vendor": False, "source": "./src"}) is None
    assert resolve_source({}) is None


def test_enabled_without_a_source_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="names no source"):
        resolve_source({"enabled": True})


def test_two_different_sources_are_refused() -> None:
    with pytest.raises(ConfigError, match="both provision.component.source and an Atmos source"):
        resolve_source({"enabled": True, "source": "./a"}, "./b")


def test_checksum_belongs_to_archives_and_must_be_sha256() -> None:
    with pytest.raises(ConfigError, match="applies to archives"):
        source({"source": "git::https://h/r.git?ref=v1", "checksum": "sha256:" + "a" * 64})
    with pytest.raises(ConfigError, match="only sha256"):
        source({"source": "https://h/x.tar.gz", "checksum": "md5:abc"})
    with pytest.raises(ConfigError, match="not a sha256 digest"):
        source({"source": "https://h/x.tar.gz", "checksum": "sha256:abc"})


def test_a_float_version_is_refused_rather_than_fetching_the_wrong_tag() -> None:
    with pytest.raises(ConfigError, match="read as a number"):
        resolve_source({}, {"uri": "git::https://h/r.git", "version": 1.10})


def test_unknown_keys_are_warnings_with_the_closest_key() -> None:
    found = source({"source": "./src", "chekcsum": "x"})
    assert any("did you mean 'checksum'" in w for w in found.warnings)


def test_durations_and_sizes() -> None:
    assert parse_duration("0s", "ttl") == 0
    assert parse_duration("1h30m", "ttl") == 5400
    assert parse_duration("7d", "ttl") == 7 * 86400
    assert parse_duration("daily", "ttl") == 86400
    assert parse_size("100MiB", "max_size") == 100 * 1024 * 1024
    assert parse_size(4096, "max_size") == 4096
    with pytest.raises(ConfigError):
        parse_duration("soon", "ttl")
    with pytest.raises(ConfigError):
        parse_size("12 parsecs", "max_size")


def test_fetch_key_ignores_subfolder_and_filters() -> None:
    a = source({"source": "git::https://h/r.git//a?ref=v1"})
    b = source({"source": "git::https://h/r.git//b?ref=v1", "included_paths": ["*.tf"]})
    c = source({"source": "git::https://h/r.git//a?ref=v2"})
    assert a.fetch_key() == b.fetch_key() != c.fetch_key()
    assert a.identity() != b.identity()
