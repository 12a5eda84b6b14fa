"""The cost report counts what the source has (issue 17, item 4): instances per component, count/for_each from the
var files, absent kinds not charged, and "unknown" (never $0) where a paid kind has no declared price."""

from __future__ import annotations

import json

import pytest

from provisioner_core.testing import CliRunner

MAIN_TF = """\
terraform {
  backend "local" {}
}
variable "aurora_count" {
  type    = number
  default = 1
}
variable "report_dbs" { type = map(string) }
variable "enable_nat" {
  type    = bool
  default = false
}
resource "aws_rds_cluster" "aurora" {
  count              = var.aurora_count
  cluster_identifier = "acme-aurora-${count.index}"
}
resource "aws_db_instance" "reports" {
  for_each   = var.report_dbs
  identifier = "acme-${each.key}"
}
resource "aws_db_instance" "audit" {}
resource "aws_iam_role" "bot" { name = "acme-bot" }
resource "aws_nat_gateway" "nat" {
  count = var.enable_nat ? 1 : 0
}
"""
WORKER_TF = 'terraform {\n  backend "local" {}\n}\nresource "aws_db_instance" "jobs" {}\n'
POLICY = """\
environments:
  resources:
    aurora: {type: aws_rds_cluster, isolation: isolated, monthly_cost: 43}
    database: {type: aws_db_instance, isolation: isolated, monthly_cost: 15}
    queue: {type: aws_sqs_queue, isolation: isolated, monthly_cost: 100}
    vpc: {type: aws_vpc, isolation: shared}
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "p"
    for folder, code, tfvars in (("terraform", MAIN_TF, 'aurora_count = 2\nreport_dbs = { sales = "s", ops = "o" }\n'), ("worker", WORKER_TF, "")):
        (root / folder).mkdir(parents=True)
        (root / folder / "main.tf").write_text(code)
        (root / folder / "terraform.dev.tfvars").write_text(f'environment = "dev"\n{tfvars}')
        (root / folder / "backend.dev.hcl").write_text('path = "dev.terraform.tfstate"\n')
    (root / "provisioner.yaml").write_text(POLICY)
    return root


@pytest.fixture
def cli(project, provisioner_registry):
    return CliRunner(project, provisioner_registry)


def cost(cli) -> dict:
    return json.loads(cli.run(["env", "create", "feature-x", "--dry-run", "-o", "json"]).stdout)["cost"]


def test_every_instance_is_counted_and_the_total_adds_them_all(cli):
    report = cost(cli)
    lines = {(line["label"], line["component"]): (line["instances"], line["delta"]) for line in report["lines"] if line["isolation"] == "isolated"}
    assert lines == {("aurora", "terraform"): (2, 86.0), ("database", "terraform"): (3, 45.0), ("database", "worker"): (1, 15.0)}
    assert report["delta_per_month"] == 146.0 == 86 + 45 + 15
    assert report["absent"] == ["queue (aws_sqs_queue)"]  # exists nowhere: not charged
    assert report["unpriced"] == []
    counted = next(line["counted"] for line in report["lines"] if line["label"] == "aurora")
    assert counted == "aurora: count = var.aurora_count = 2 (terraform/terraform.feature-x.tfvars)"  # the target's own var file
    text = cli.run(["env", "create", "feature-x", "--dry-run"]).stdout
    assert "4. Cost: +$146.00/month for feature-x" in text
    assert "  database (aws_db_instance) in terraform: 3 x $15.00/month -> +$45.00 (reports: for_each = var.report_dbs: 2 keys" in text
    assert "  not in dev, not charged: queue (aws_sqs_queue)" in text
    assert "  vpc (aws_vpc): shared, one for all environments -> +$0.00" in text


def test_a_paid_kind_without_a_price_makes_the_cost_unknown(project, cli):
    (project / "terraform" / "terraform.dev.tfvars").write_text((project / "terraform" / "terraform.dev.tfvars").read_text() + "enable_nat = true\n")
    report = cost(cli)
    assert report["delta_per_month"] is None and report["known_delta_per_month"] == 146.0
    assert report["unpriced"] == ["aws_nat_gateway in terraform"]
    assert report["summary"] == "unknown for feature-x (at least +$146.00/month): no price declared for aws_nat_gateway in terraform"
    text = cli.run(["env", "create", "feature-x", "--dry-run"]).stdout
    assert "4. Cost: unknown for feature-x (at least +$146.00/month)" in text
    assert "aws_nat_gateway (aws_nat_gateway) in terraform: 1 x price unknown -> unknown (nat: count = var.enable_nat ? 1 : 0 = 1" in text


def test_without_a_policy_the_cost_is_unknown_not_zero(project, cli):
    (project / "provisioner.yaml").write_text("environments:\n  protected: [prod]\n")
    report = cost(cli)
    assert report["delta_per_month"] is None
    assert report["unpriced"] == ["aws_rds_cluster in terraform", "aws_db_instance in terraform", "aws_db_instance in worker"]
    text = cli.run(["env", "create", "feature-x", "--dry-run"]).stdout
    assert "4. Cost: unknown for feature-x: no prices declared (environments.resources.<kind>.monthly_cost); paid kinds found: aws_rds_cluster in terraform" in text
    assert "+$0.00/month" not in text
    assert "Find out the cost: unknown for feature-x" in text


def test_a_count_that_cannot_be_evaluated_counts_as_one_and_says_so(project, cli):
    main = project / "terraform" / "main.tf"
    main.write_text(main.read_text().replace("count              = var.aurora_count", "count              = max(var.aurora_count, 3)"))
    report = cost(cli)
    aurora = next(line for line in report["lines"] if line["label"] == "aurora")
    assert (aurora["instances"], aurora["delta"]) == (1, 43.0)
    assert aurora["counted"] == "aurora: count = max(var.aurora_count, 3) (not evaluated), counted as 1"
