"""``--all``: each distinct (source, ref) fetched once, bounded parallelism, failures kept apart."""

from __future__ import annotations

from pathlib import Path

from provisioner_component.batch import Item, vendor_all
from provisioner_component.config import resolve_source
from provisioner_core import Status
from support.component_helpers import Engine, GitCounter, GitRepo, module_tf


def items(engine: Engine, layout: list[tuple[str, str, str]]) -> list[Item]:
    found = []
    for stack, component, uri in layout:
        source = resolve_source({"enabled": True, "source": uri})
        assert source is not None
        found.append(Item(engine.vendorer.target(stack, component), source))
    return found


def twenty_over_three_sources(repo: GitRepo, other: GitRepo) -> list[tuple[str, str, str]]:
    sources = [f"git::{repo.url}//modules/vpc?ref=v1", f"git::{repo.url}//modules/vpc?ref=v2", f"git::{other.url}//net?ref=v1"]
    return [(f"s{i % 5}", f"c{i}", sources[i % 3]) for i in range(20)]


def other_repo(tmp_path: Path) -> GitRepo:
    other = GitRepo(tmp_path / "other")
    other.commit({"net/main.tf": module_tf("net-v1")}, "v1", tag="v1")
    return other


def test_twenty_components_sharing_three_sources_fetch_three_times(engine: Engine, repo: GitRepo, tmp_path: Path, git_counter: GitCounter) -> None:
    layout = twenty_over_three_sources(repo, other_repo(tmp_path))
    report = vendor_all(engine.vendorer, items(engine, layout), jobs=4)
    assert report.exit_code == 0
    assert [r.result.status for r in report.results if r.result] == [Status.CREATED] * 20
    assert (report.groups, report.fetches) == (3, 3)
    assert git_counter.count("fetch") == 3
    assert "net-v1" in (engine.workdir("s2", "c2") / "main.tf").read_text()
    assert "v2" in (engine.workdir("s1", "c1") / "main.tf").read_text()

    git_counter.reset()
    warm = engine.fresh()
    again = vendor_all(warm.vendorer, items(warm, layout), jobs=4)
    assert [r.result.status for r in again.results if r.result] == [Status.UNCHANGED] * 20
    assert (again.fetches, git_counter.count()) == (0, 0)


def test_one_bad_source_does_not_stop_the_others(engine: Engine, repo: GitRepo, git_counter: GitCounter) -> None:
    layout = [("dev", "good", f"git::{repo.url}//modules/vpc?ref=v1"), ("dev", "bad", f"git::{repo.url}//modules/vpc?ref=v9")]
    report = vendor_all(engine.vendorer, items(engine, layout))
    by_name = {r.item.target.component: r for r in report.results}
    assert by_name["good"].result is not None and by_name["good"].result.status is Status.CREATED
    assert by_name["bad"].error is not None and "ref 'v9' not found" in by_name["bad"].error.message
    assert report.exit_code == 2


def test_a_local_edit_in_one_component_is_reported_and_the_rest_run(engine: Engine, repo: GitRepo) -> None:
    layout = [("dev", "a", f"git::{repo.url}//modules/vpc?ref=v1"), ("dev", "b", f"git::{repo.url}//modules/vpc?ref=v1")]
    vendor_all(engine.vendorer, items(engine, layout))
    (engine.workdir("dev", "a") / "main.tf").write_text("# edited\n")
    bumped = [(s, c, u.replace("v1", "v2")) for s, c, u in layout]
    fresh = engine.fresh()
    report = vendor_all(fresh.vendorer, items(fresh, bumped))
    by_name = {r.item.target.component: r for r in report.results}
    assert by_name["a"].error is not None and by_name["a"].error.exit_code == 4
    assert by_name["b"].result is not None and by_name["b"].result.status is Status.UPDATED
    assert report.exit_code == 4


def test_dry_run_plans_every_component_without_fetching(engine: Engine, repo: GitRepo, tmp_path: Path, git_counter: GitCounter) -> None:
    report = vendor_all(engine.vendorer, items(engine, twenty_over_three_sources(repo, other_repo(tmp_path))), dry_run=True)
    assert {r.result.status for r in report.results if r.result} == {Status.PLANNED}
    assert git_counter.count() == 0 and not (engine.root / ".provisioner/workdir").exists()
