"""Name-part substitution, environment names and provider limits, and the policy schema."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner_core.errors import ConfigError
from provisioner_core.stacks.config import ProjectConfig
from provisioner_env.names import NAME_RULES, name_problems, normalise_env_name, validate_env_name
from provisioner_env.policy import load_policy, render_name
from provisioner_env.substitute import contains, substitute


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('environment = "dev"', 'environment = "feature-x"'),
        ("acme-lambda-dev", "acme-lambda-feature-x"),
        ("dev/terraform.tfstate", "feature-x/terraform.tfstate"),
        ("terraform.dev.tfvars", "terraform.feature-x.tfvars"),
        ("acme_dev_table", "acme_feature-x_table"),
        ("https://api.dev.example.com/dev", "https://api.feature-x.example.com/feature-x"),
        ("devices", "devices"),
        ("devops", "devops"),
        ("mydev", "mydev"),
        ("dev2", "dev2"),
        ("Dev", "Dev"),
        ("devices-dev-devops", "devices-feature-x-devops"),
        ("dev-dev", "feature-x-feature-x"),
        ("", ""),
    ],
)
def test_substitution_replaces_whole_name_parts_only(text, expected):
    assert substitute(text, "dev", "feature-x") == expected


def test_substitution_of_a_hyphenated_name():
    assert substitute("app-feature-x-logs", "feature-x", "feature-y") == "app-feature-y-logs"
    assert substitute("feature-xl", "feature-x", "feature-y") == "feature-xl"
    assert contains("s3://acme-dev-tfstate", "dev") and not contains("s3://acme-devtools", "dev")


WORDS = st.text(alphabet="abcdefvoips0123", min_size=1, max_size=8)
SEPARATORS = st.sampled_from(["-", "_", "/", ".", " ", '"', "=", ":", " = ", "\n", "${"])


@given(words=st.lists(WORDS, min_size=1, max_size=12), seps=st.lists(SEPARATORS, min_size=12, max_size=12))
def test_property_only_the_env_name_word_changes(words, seps):
    """Split into alphanumeric words: every word that is not `dev` is unchanged, every `dev` becomes the target."""
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    result = substitute(text, "dev", "stage9")
    expected = "".join(("stage9" if w == "dev" else w) + s for w, s in zip(words, seps, strict=False))
    assert result == expected
    assert re.findall(r"[A-Za-z0-9]+", result) == ["stage9" if w == "dev" else w for w in re.findall(r"[A-Za-z0-9]+", text)]


@given(text=st.text(max_size=60))
def test_property_text_without_the_name_part_is_unchanged(text):
    if not contains(text, "dev"):
        assert substitute(text, "dev", "feature-x") == text
    else:
        assert "feature-x" in substitute(text, "dev", "feature-x")


@given(text=st.text(alphabet="devops-_/.x ", max_size=40))
def test_property_substitution_round_trips_through_a_fresh_name(text):
    """dev -> zq9 -> dev restores the text whenever zq9 did not occur before (no word is ever split or merged)."""
    if "zq9" not in text:
        assert substitute(substitute(text, "dev", "zq9"), "zq9", "dev") == text


@pytest.mark.parametrize(
    ("raw", "name"),
    [("feature/auth", "feature-auth"), ("refs/heads/Feature/Auth_2", "feature-auth-2"), ("  staging ", "staging"), ("fix//double--dash", "fix-double-dash")],
)
def test_branch_names_are_normalised(raw, name):
    assert normalise_env_name(raw) == name


def test_environment_names_are_validated():
    with pytest.raises(ConfigError, match="no letters or digits"):
        normalise_env_name("///")
    with pytest.raises(ConfigError, match="not valid"):
        validate_env_name("9lives")
    with pytest.raises(ConfigError, match="over the limit of 10"):
        validate_env_name("feature-very-long", max_length=10)
    with pytest.raises(ConfigError, match="does not match"):
        validate_env_name("tmp-x", pattern=r"(dev|feature-[a-z0-9-]+)")
    validate_env_name("feature-auth")


@pytest.mark.parametrize(
    ("resource_type", "name", "problem"),
    [
        ("aws_s3_bucket", "a" * 64, "over the limit of 63"),
        ("aws_s3_bucket", "Acme_Bucket", "not allowed"),
        ("aws_iam_role", "r" * 65, "over the limit of 64"),
        ("aws_lambda_function", "f" * 65, "over the limit of 64"),
        ("aws_dynamodb_table", "t" * 256, "over the limit of 255"),
        ("google_storage_bucket", "g" * 64, "over the limit of 63"),
        ("azurerm_storage_account", "acmefeatureauthtfstate01", ""),
        ("azurerm_storage_account", "acme-feature-auth", "not allowed"),
        ("azurerm_storage_account", "acmefeatureauthtfstate012", "over the limit of 24"),
        ("aws_lb", "acme-feature-auth-public-alb-xyz1", "over the limit of 32"),
        ("aws_rds_cluster", "acme--aurora", "not allowed"),
    ],
)
def test_provider_name_limits(resource_type, name, problem):
    problems = name_problems(resource_type, name)
    assert (problem in " ".join(problems)) if problem else problems == []


def test_every_rule_accepts_a_typical_name_and_unknown_types_pass():
    for resource_type in NAME_RULES:
        name = "acmedev" + ("" if resource_type != "google_service_account" else "1")
        assert name_problems(resource_type, name) == [], resource_type
    assert name_problems("custom_thing", "x" * 500) == []
    assert "over the limit of 20" in name_problems("custom_thing", "x" * 21, max_length=20)[0]


def _config(raw):
    from pathlib import Path

    return ProjectConfig(root=Path("/p"), file=None, stacks_base_path=Path("/p/stacks"), terraform_base_path=Path("/p/c"), raw=raw)


def test_policy_defaults_and_full_schema():
    default = load_policy(_config({}))
    assert default.default_source == "dev" and default.protected == ("prod", "staging") and default.resources == ()
    policy = load_policy(_config({"environments": {
        "default_source": "dev", "protected": ["prod"],
        "naming": {"max_length": 20, "vars": ["stage"]},
        "resources": {
            "aurora": {"type": "aws_rds_cluster", "isolation": "isolated", "monthly_cost": 43, "names": ["{ns}-aurora-{stage}"]},
            "artifacts": {"type": "aws_s3_bucket", "isolation": "shared", "vars": ["artifact_bucket"]},
            "queue": "isolated",
        },
        "keys": {"LINE_CHANNEL_ACCESS_TOKEN": {"isolation": "isolated", "hint": "new LINE channel"}, "OPENROUTER_API_KEY": "shared"},
    }}))
    assert policy.protected == ("prod",) and policy.naming.max_length == 20 and policy.naming.vars == ("stage",)
    assert [r.label for r in policy.resources] == ["aurora", "artifacts", "queue"] and policy.resources[2].type == "queue"
    assert policy.isolated_key("line_channel_access_token", "env").hint == "new LINE channel"  # case-insensitive
    assert policy.isolated_key("OPENROUTER_API_KEY", "env") is None and policy.is_shared_key("OPENROUTER_API_KEY")
    assert policy.is_shared_key("artifact_bucket")  # a shared resource's var is never renamed
    # Undeclared secret-looking keys are isolated in application sections only.
    assert policy.isolated_key("db_password", "vars") is not None
    assert policy.isolated_key("secret_access_key", "auth") is None
    assert render_name("{ns}-aurora-{stage}", {"ns": "acme", "stage": "dev"}) == "acme-aurora-dev"
    assert render_name("{ns}-aurora-{stage}", {"stage": "dev"}) is None
    assert policy.resources[0].monthly_cost == 43 and policy.resources[1].monthly_cost is None  # undeclared: unknown, not 0
    assert (default.secrets.variable, default.secrets.yaml, default.destroy_backends) == ("{ENV}_{KEY}", "auto", "keep")
    assert not default.terraform.backend_enabled()


def test_secret_variable_names_and_reference_comments():
    from provisioner_env.secrets import markers, variable_name
    from provisioner_env.tfvars import reference_comment

    assert variable_name("{ENV}_{KEY}", "feature-auth", "line.channel-token") == "FEATURE_AUTH_LINE_CHANNEL_TOKEN"
    assert variable_name("{key}", "feature-auth", "line_token") == "line_token"
    with pytest.raises(ConfigError, match="not an environment variable name"):
        variable_name("{env}_{KEY}", "feature-auth", "x")
    comment = reference_comment("line_token", "TF_VAR_line_token", "qa", "dev", "new channel", "  ")
    assert markers(f"a = 1\n{comment}\n# other: from X (not ours)\n") == {"line_token": "TF_VAR_line_token"}


@pytest.mark.parametrize(
    ("environments", "message"),
    [
        ({"resorces": {}}, "unknown key 'resorces'"),
        ({"resources": {"db": {"isolation": "private"}}}, "must be isolated or shared"),
        ({"resources": {"db": {"isolation": "isolated", "monthly_cost": -1}}}, "monthly_cost"),
        ({"resources": {"db": {"isolation": "isolated", "names": ["fixed-name"]}}}, "has no {var} part"),
        ({"keys": {"TOKEN": "copy"}}, "must be isolated or shared"),
        ({"naming": {"max_length": 0}}, "positive integer"),
        ({"naming": {"pattern": "("}}, "not a valid regular expression"),
        ({"protected": "prod"}, None),
        ([], "must be a mapping"),
        ({"terraform": {"provision": {"backend": {"enabled": "yes"}}}}, "environments.terraform.provision.backend.enabled must be true or false"),
        ({"terraform": {"provision": {"backend": []}}}, "environments.terraform.provision.backend must be a mapping"),
        ({"terraform": {"auth": "aws"}}, "environments.terraform.auth must be a mapping"),
        ({"secrets": {"yaml": "always"}}, "environments.secrets.yaml must be one of auto, env, placeholder"),
        ({"secrets": {"variable": "SECRET_{ENV}"}}, "has no {KEY}"),
        ({"secrets": {"varible": "{KEY}"}}, "environments.secrets: unknown key 'varible'"),
        ({"destroy": {"backends": "delete"}}, "environments.destroy.backends must be keep or remove"),
        ({"resources": {"role": {"isolation": "isolated", "case_insensitive": "yes"}}}, "case_insensitive must be true or false"),
    ],
)
def test_policy_errors_name_the_key(environments, message):
    if message is None:
        assert load_policy(_config({"environments": environments})).protected == ("prod",)
        return
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_policy(_config({"environments": environments}))
    assert caught.value.exit_code == 2
