"""Git sources with the real git binary: refs, commits, the SHA fallback, errors, credentials kept off the command line."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from provisioner_component.credentials import git_credentials
from provisioner_component.git import Git, GitAccess, access_for, fetch_commit
from provisioner_core import ConfigError, PermissionDenied, ProvisionerError
from support.component_helpers import FileServer, GitCounter, GitRepo


def fetch(repo_url: str, want: str | None, work: Path, access: GitAccess | None = None) -> str:
    return fetch_commit(Git(access or GitAccess()), repo_url, want, work, where="source")


def test_fetch_a_tag_a_branch_a_commit_and_the_default_branch(repo: GitRepo, tmp_path: Path, git_counter: GitCounter) -> None:
    v1 = repo.git("rev-parse", "v1^{commit}")
    head = repo.git("rev-parse", "HEAD")
    assert fetch(repo.url, "v1", tmp_path / "a") == v1
    assert "v1" in (tmp_path / "a/modules/vpc/main.tf").read_text() and not (tmp_path / "a/.git").exists()
    assert fetch(repo.url, "main", tmp_path / "b") == head
    assert fetch(repo.url, v1, tmp_path / "c") == v1
    assert fetch(repo.url, None, tmp_path / "d") == head
    fetches = [c["argv"] for c in git_counter.calls() if "fetch" in c["argv"]]
    assert all("--depth" in argv for argv in fetches)  # shallow: only the one commit travels


def test_annotated_tags_resolve_to_their_commit(repo: GitRepo, tmp_path: Path) -> None:
    repo.git("tag", "-a", "v1-annotated", "-m", "release", "v1")
    assert fetch(repo.url, "v1-annotated", tmp_path / "a") == repo.git("rev-parse", "v1^{commit}")


def test_a_server_that_refuses_a_commit_by_sha_gets_a_full_fetch(repo: GitRepo, tmp_path: Path, git_counter: GitCounter, monkeypatch: pytest.MonkeyPatch) -> None:
    v1 = repo.git("rev-parse", "v1^{commit}")
    # Protocol v0 without uploadpack.allowReachableSHA1InWant refuses unadvertised objects.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.version")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "0")
    assert fetch(repo.url, v1[:10], tmp_path / "short") == v1
    fetches = [c["argv"] for c in git_counter.calls() if "fetch" in c["argv"]]
    assert any("+refs/tags/*:refs/tags/*" in argv for argv in fetches)


def test_a_missing_ref_is_a_configuration_error(repo: GitRepo, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ref 'v9' not found"):
        fetch(repo.url, "v9", tmp_path / "a")


def test_a_missing_repository_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a git repository"):
        fetch(f"file://{tmp_path}/nothing-here", "v1", tmp_path / "a")


def test_the_token_travels_in_the_environment_and_never_in_messages(tmp_path: Path, served: FileServer, git_counter: GitCounter) -> None:
    token = "ghp_TopSecretToken1234"
    credentials = git_credentials("token", {"token_env": "TEST_GIT_TOKEN"}, environ={"TEST_GIT_TOKEN": token})
    url = f"http://127.0.0.1:{served.port}/acme/private.git"
    access = credentials.access(url)
    with pytest.raises(ProvisionerError) as caught:
        fetch(url, "v1", tmp_path / "a", access)
    # The header reached the server; the token is in no argv, message, hint or context.
    expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
    assert any(r["authorization"] == expected for r in served.requests)
    for call in git_counter.calls():
        assert token not in " ".join(call["argv"])
        assert expected.split()[1] not in " ".join(call["argv"])
    text = caught.value.message + " ".join(caught.value.hints) + str(caught.value.context)
    assert token not in text and expected.split()[1] not in text


def test_the_header_is_scoped_to_the_repository_host(tmp_path: Path) -> None:
    access = access_for("https://git.example.com/acme/r.git", username="x-access-token", secret="tok3n-value")
    assert access.env["GIT_CONFIG_KEY_0"] == "http.https://git.example.com/.extraHeader"
    assert "tok3n-value" in access.secrets
    credentials = git_credentials("token", {"token": "tok3n-value", "hosts": ["github.com"]})
    assert credentials.access("https://git.example.com/acme/r.git") == GitAccess()
    assert "tok3n-value" not in repr(credentials)


def test_git_error_text_is_redacted(tmp_path: Path) -> None:
    git = Git(GitAccess(secrets=("sup3rs3cret",)))
    assert git.redact("fatal: could not read from https://bot:sup3rs3cret@host/x.git") == "fatal: could not read from https://***@host/x.git"


def test_credentials_in_the_url_never_reach_the_command_line(repo: GitRepo, engine, served: FileServer, git_counter: GitCounter) -> None:  # type: ignore[no-untyped-def]
    url = f"git::http://bot:pa55word-xyz@127.0.0.1:{served.port}/acme/private.git?ref=v1"
    with pytest.raises(ProvisionerError) as caught:
        engine.vendor("dev", "vpc", {"source": url})
    assert "pa55word-xyz" not in caught.value.message
    assert all("pa55word-xyz" not in " ".join(c["argv"]) for c in git_counter.calls())
    assert any(r["authorization"] == "Basic " + base64.b64encode(b"bot:pa55word-xyz").decode() for r in served.requests)


def test_missing_token_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="NOPE_TOKEN is not set"):
        git_credentials("token", {"token_env": "NOPE_TOKEN"}, environ={})
    with pytest.raises(ConfigError, match="unknown type"):
        git_credentials("password", {})


def test_ssh_key_credentials_set_the_ssh_command(tmp_path: Path) -> None:
    key = tmp_path / "deploy_key"
    key.write_text("key")
    credentials = git_credentials("ssh-key", {"key_file": str(key)})
    env = credentials.access("git@github.com:acme/r.git").env
    assert env["GIT_SSH_COMMAND"].startswith(f"ssh -i {key}") and "BatchMode=yes" in env["GIT_SSH_COMMAND"]


def test_permission_errors_name_auth_providers_git(tmp_path: Path, served: FileServer) -> None:
    # A dumb-http server answering 403 to git: git reports it, we map it to exit 3.
    url = f"http://127.0.0.1:{served.port}/status/403"
    with pytest.raises(PermissionDenied, match="could not authenticate") as caught:
        fetch(url, "v1", tmp_path / "a")
    assert caught.value.exit_code == 3 and "auth.providers.git" in caught.value.hints[0]
