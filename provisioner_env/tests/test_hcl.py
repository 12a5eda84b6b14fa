"""The HCL reader of variables, backend and terraform files: literal values, spans, refusals with file:line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner_core import ConfigError
from provisioner_env import hcl

BACKEND = """\
# backend.dev.hcl
bucket         = "acme-dev-tfstate"   # one bucket per environment
key            = "bot/terraform.tfstate"
region         = "ap-southeast-1"
use_lockfile   = true
max_retries    = 5
endpoints = {
  s3  = "http://127.0.0.1:4566"
  sts = "http://127.0.0.1:4566", // a comment after a comma
}
"assume_role" = { role_arn: "arn:aws:iam::123456789012:role/tf", tags = {Env = "dev"} }
allowed_account_ids = [
  "123456789012",
  /* inline */ "210987654321",
]
skip = null
ratio = -1.5e3
"""


def test_literal_values_of_every_kind():
    values = hcl.parse_values(BACKEND, "terraform/backend.dev.hcl", kind="backend file")
    assert values == {
        "bucket": "acme-dev-tfstate", "key": "bot/terraform.tfstate", "region": "ap-southeast-1", "use_lockfile": True, "max_retries": 5,
        "endpoints": {"s3": "http://127.0.0.1:4566", "sts": "http://127.0.0.1:4566"},
        "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/tf", "tags": {"Env": "dev"}},
        "allowed_account_ids": ["123456789012", "210987654321"], "skip": None, "ratio": -1500.0,
    }  # fmt: skip


def test_strings_escapes_and_heredocs():
    text = 'a = "tab\\there \\"q\\" \\u00e9 $${literal}"\nb = <<EOT\nline ${"$"}{x}\nEOT\n'
    with pytest.raises(ConfigError, match="a template inside a heredoc"):
        hcl.parse_values(text, "x.tfvars")
    text = 'a = "tab\\there \\"q\\" \\u00e9 $${literal}"\nb = <<-EOT\n    indented\n      more\n    EOT\nc = 1\n'
    assert hcl.parse_values(text, "x.tfvars") == {"a": 'tab\there "q" \u00e9 ${literal}', "b": "indented\n  more\n", "c": 1}


def test_string_spans_carry_the_keys_around_them():
    text = 'environment = "dev"\ntags = { Team = "devops", Env = "dev" }\nlist = ["a", "dev"]\n'
    parsed = hcl.parse_attributes(text, "t.tfvars")
    spans = [(text[s.start : s.end], s.keys) for s in parsed.strings]
    assert spans == [("dev", ("environment",)), ("devops", ("tags", "Team")), ("dev", ("tags", "Env")), ("a", ("list",)), ("dev", ("list",))]
    assert [(a.key, text[a.start : a.end], a.line) for a in parsed.attributes] == [
        ("environment", '"dev"', 1), ("tags", '{ Team = "devops", Env = "dev" }', 2), ("list", '["a", "dev"]', 3),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ('a = "x"\nb = var.region\n', 2, "a reference or function call (var...)"),
        ('a = file("x")\n', 1, "a reference or function call (file...)"),
        ('a = "ok"\n\nb = "${var.x}"\n', 3, "a template"),
        ('a = "never closed\nb = 1\n', 1, "a string that is never closed"),
        ('a = 1\na = 2\n', 2, "'a' assigned twice"),
        ('a "x"\n', 1, "'a' not followed by ="),
        ('a = {\n  b = 1\n', 1, "an object that is never closed"),
        ('a = 1 2\n', 1, "an unexpected '2' after the value of 'a'"),
        ('a = [1 2]\n', 1, "a list item not followed by , or ]"),
        ('a = "\\q"\n', 1, "an unknown escape"),
        ('/* open\na = 1\n', 1, "never closed"),
    ],
)
def test_what_is_not_a_literal_is_refused_with_file_and_line(text, line, what):
    with pytest.raises(ConfigError) as caught:
        hcl.parse_values(text, "terraform/terraform.dev.tfvars")
    assert caught.value.message.startswith(f"terraform/terraform.dev.tfvars:{line}: cannot read this variables file: ")
    assert what in caught.value.message
    assert caught.value.exit_code == 2


MAIN_TF = """\
terraform {
  required_version = ">= 1.5"
  backend "s3" {
    key = "bot/terraform.tfstate"
    assume_role { role_arn = "arn:aws:iam::1:role/x" }
  }
}
variable "aurora_count" { type = number }
resource "aws_rds_cluster" "aurora" {
  count              = var.aurora_count
  cluster_identifier = "${var.project}-aurora-${var.environment}-${count.index}"
  tags = merge(var.tags, { Name = "x}{" })
  lifecycle {
    ignore_changes = [tags]
  }
  policy = <<EOF
{"braces": "}}}", "name": "${var.project}-${jsonencode({a = "}"})}"}
EOF
  tags_all = { for k, v in var.tags : k => "${v}-${count.index}" if k != "x" }
  list     = [for s in var.list : upper(s)]
  ok       = var.a == "b" ? !var.c : var.d >= 2 && var.e != null
}
resource "aws_lambda_function" "fn" { for_each = toset(["a", "b"]) }
data "aws_caller_identity" "me" {}
"""


def test_blocks_of_a_terraform_file_and_its_backend():
    blocks = hcl.parse_blocks(MAIN_TF, "main.tf")
    assert [(b.type, b.labels, b.line) for b in blocks] == [
        ("terraform", (), 1), ("variable", ("aurora_count",), 8), ("resource", ("aws_rds_cluster", "aurora"), 9),
        ("resource", ("aws_lambda_function", "fn"), 23), ("data", ("aws_caller_identity", "me"), 24),
    ]  # fmt: skip
    aurora = blocks[2]
    assert aurora.attributes["count"] == "var.aurora_count"
    assert aurora.attributes["tags"] == 'merge(var.tags, { Name = "x}{" })'
    assert [b.type for b in aurora.blocks] == ["lifecycle"]
    assert aurora.attributes["ok"] == 'var.a == "b" ? !var.c : var.d >= 2 && var.e != null'
    assert aurora.attributes["list"] == "[for s in var.list : upper(s)]"
    assert blocks[3].attributes == {"for_each": 'toset(["a", "b"])'}
    assert hcl.backend_of(MAIN_TF, "main.tf") == ("s3", {"key": "bot/terraform.tfstate", "assume_role": {"role_arn": "arn:aws:iam::1:role/x"}})
    assert hcl.backend_of('terraform {\n  # backend "s3" {}\n}\n', "x.tf") is None


def test_a_backend_block_with_an_expression_is_refused_with_its_line():
    with pytest.raises(ConfigError, match=r"^main.tf:3: cannot read this backend block: a reference"):
        hcl.backend_of('terraform {\n  backend "s3" {\n    bucket = local.bucket\n  }\n}\n', "main.tf")
    with pytest.raises(ConfigError, match=r"^main.tf:2: cannot read this terraform file: a block that is never closed"):
        hcl.parse_blocks('x = 1\nresource "a" "b" {\n', "main.tf")


_scalars = st.one_of(st.booleans(), st.none(), st.integers(-10**6, 10**6), st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12))
_keys = st.from_regex(r"[a-z_][a-z0-9_-]{0,8}", fullmatch=True).filter(lambda k: k not in ("true", "false", "null"))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3), max_leaves=8)


def _render(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, dict):
        return "{\n" + "".join(f"{k} = {_render(v)}\n" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return json.dumps(value)


@given(st.dictionaries(_keys, _values, max_size=5))
def test_rendered_literals_read_back_equal(document):
    text = "".join(f"{key} = {_render(value)}  # comment\n" for key, value in document.items())
    assert hcl.parse_values(text, "generated.tfvars") == document
