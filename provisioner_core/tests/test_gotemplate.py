"""The Go text/template engine: syntax and semantics, table-driven in the style of Go's exec_test.go."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner_core.errors import ConfigError
from provisioner_core.gotemplate import Template, TemplateError, UnsupportedTemplateError, has_template, parse, render

DATA = {
    "vars": {"namespace": "acme", "tenant": "plat", "environment": "ue2", "stage": "dev", "region": "us-east-2", "count": 3, "enabled": True},
    "settings": {"config": {"a": "A", "b": "", "n": 0}},
    "atmos_component": "vpc/flow-logs",
    "list": ["a", "b", "c"],
    "empty_list": [],
    "map": {"b": 2, "a": 1, "c": 3},
    "empty_map": {},
    "nested": {"inner": {"leaf": "x"}},
    "null": None,
    "zero": 0,
    "float": 1.5,
    "big": 1e21,
    "three": 3.0,
    "text": "hello",
    "ints": [3, 1, 2],
    "t": True,
    "f": False,
}

# (template, expected output) rendered with DATA and missing="error".
CASES = [
    # Text, comments, trim markers.
    ("plain text", "plain text"),
    ("", ""),
    ("a{{/* comment */}}b", "ab"),
    ("a {{- /* comment */ -}} b", "ab"),
    ("a  \n {{- .text }}", "ahello"),
    ("{{ .text -}} \n\t b", "hellob"),
    ("x {{- .text -}} y", "xhelloy"),
    ("{{-3}}", "-3"),
    ("{{ 3 -}} 4", "34"),
    ("{{- 3 }} 4", "3 4"),
    ("\n{{- `a` }}\n", "a\n"),
    # Fields, dot, variables.
    ("{{ .vars.namespace }}-{{ .vars.stage }}", "acme-dev"),
    ("{{.vars.stage}}", "dev"),
    ("{{ .nested.inner.leaf }}", "x"),
    ("{{ . | len }}", "17"),
    ("{{ with .nested }}{{ .inner.leaf }}{{ end }}", "x"),
    ("{{ $x := .vars.stage }}{{ $x }}", "dev"),
    ("{{ $x := .nested }}{{ $x.inner.leaf }}", "x"),
    ("{{ with .nested }}{{ $.vars.stage }}{{ end }}", "dev"),
    ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
    ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
    ("{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", "21"),
    ("{{ $x := 1 }}{{ $x := $x }}{{ $x }}", "1"),
    ("{{ $x := 5 }}{{ range .list }}{{ $x }}{{ end }}", "555"),
    # Literals.
    ('{{ "a\\tb\\n\\"q\\"\\\\ \\u00e9 \\x41 \\101" }}', 'a\tb\n"q"\\ é A A'),
    ("{{ `raw \\n string` }}", "raw \\n string"),
    ("{{ 'a' }}", "97"),
    ("{{ '\\n' }}", "10"),
    ("{{ 0x1f }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }}", "31 15 15 5 1000"),
    ("{{ 1.5 }} {{ 1e3 }} {{ -2 }} {{ +4 }} {{ .5 }}", "1.5 1000 -2 4 0.5"),
    ("{{ true }} {{ false }}", "true false"),
    ("{{ print nil }}", "<nil>"),
    # %v printing of values.
    ("{{ .list }}", "[a b c]"),
    ("{{ .map }}", "map[a:1 b:2 c:3]"),
    ("{{ .empty_map }} {{ .empty_list }}", "map[] []"),
    ("{{ .float }} {{ .big }} {{ .three }} {{ 1e6 }} {{ 123456.0 }} {{ 0.0001 }} {{ 0.00001 }}", "1.5 1e+21 3 1e+06 123456 0.0001 1e-05"),
    ("{{ .vars.enabled }} {{ .zero }}", "true 0"),
    ("{{ .null }}", "<no value>"),
    ("{{ list 1 nil \"x\" }}", "[1 <nil> x]"),
    ("{{ dict \"k\" (list 1 2) }}", "map[k:[1 2]]"),
    # Pipelines and parentheses.
    ("{{ .atmos_component | replace \"/\" \"-\" }}", "vpc-flow-logs"),
    ("{{ (index .settings.config \"a\") | default \"x\" | quote }}", '"A"'),
    ("{{ (index .settings.config \"b\") | default \"x\" | quote }}", '"x"'),
    ("{{ .text | printf \"%s-%s\" \"pre\" }}", "pre-hello"),
    ("{{ (dict \"a\" (dict \"b\" 7)).a.b }}", "7"),
    ("{{ (.nested).inner.leaf }}", "x"),
    ("{{ $m := dict \"a\" 1 }}{{ ($m).a }}", "1"),
    ("{{ len (print 1 2) }}", "3"),
    ("{{ print (print \"a\") (print 1) }}", "a1"),
    # if / else if / else.
    ('{{ if eq .vars.stage "local" }}{{ .vars.stage }}{{ else }}{{ .vars.tenant }}-{{ .vars.stage }}{{ end }}', "plat-dev"),
    ("{{ if .t }}T{{ end }}{{ if .f }}F{{ end }}", "T"),
    ("{{ if .zero }}a{{ else if .empty_list }}b{{ else if .list }}c{{ else }}d{{ end }}", "c"),
    ("{{ if .zero }}a{{ else if .f }}b{{ else }}d{{ end }}", "d"),
    ("{{ if .null }}a{{ else }}b{{ end }}", "b"),
    ("{{ if .empty_map }}a{{ else }}b{{ end }}", "b"),
    ("{{ if \"\" }}a{{ else }}b{{ end }}{{ if 0.0 }}a{{ else }}b{{ end }}", "bb"),
    ("{{ if $x := .vars.stage }}{{ $x }}{{ end }}", "dev"),
    # with / else with.
    ("{{ with .vars.stage }}{{ . }}{{ end }}", "dev"),
    ("{{ with .empty_list }}x{{ else }}empty{{ end }}", "empty"),
    ("{{ with .empty_list }}x{{ else with .list }}{{ index . 1 }}{{ else }}none{{ end }}", "b"),
    ("{{ with $x := .nested }}{{ $x.inner.leaf }}{{ end }}", "x"),
    # range.
    ("{{ range .list }}{{ . }}{{ end }}", "abc"),
    ("{{ range $i, $e := .list }}{{ $i }}:{{ $e }} {{ end }}", "0:a 1:b 2:c "),
    ("{{ range $e := .list }}{{ $e }}{{ end }}", "abc"),
    ("{{ range $k, $v := .map }}{{ $k }}={{ $v }};{{ end }}", "a=1;b=2;c=3;"),
    ("{{ range .map }}{{ . }}{{ end }}", "123"),
    ("{{ range 3 }}{{ . }}{{ end }}", "012"),
    ("{{ range $i := 3 }}{{ $i }}{{ end }}", "012"),
    ("{{ range .empty_list }}x{{ else }}none{{ end }}", "none"),
    ("{{ range .null }}x{{ else }}none{{ end }}", "none"),
    ("{{ range .list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}", "a"),
    ("{{ range .list }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", "ac"),
    ("{{ range $i, $e := .list }}{{ range $.ints }}{{ if eq . 1 }}{{ break }}{{ end }}{{ . }}{{ end }}{{ $i }}{{ end }}", "303132"),
    ("{{ range .list }}{{ $x := . }}{{ end }}done", "done"),
    ("{{ range .list }}{{ end }}ok", "ok"),
    # and / or / not return the deciding value.
    ("{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 \"\" \"x\" }} {{ or 0 \"\" }}", "0 2 x "),
    ("{{ or .vars.stage .missing_key_not_evaluated }}", "dev"),
    ("{{ and .f .missing_key_not_evaluated }}", "false"),
    ("{{ not 0 }} {{ not .list }}", "true false"),
    ("{{ .text | and 1 }}", "hello"),
    ("{{ .list | or .zero }}", "[a b c]"),
    # Comparisons.
    ("{{ eq 1 1 }} {{ eq \"a\" \"b\" \"a\" }} {{ ne 1 2 }} {{ eq .null nil }} {{ eq \"a\" nil }}", "true true true true false"),
    ("{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge \"b\" \"a\" }}", "true true false true"),
    ("{{ eq 1 1.0 }} {{ lt 1 1.5 }}", "true true"),
    # Built-in functions.
    ("{{ len .list }} {{ len .map }} {{ len \"héllo\" }}", "3 3 6"),
    ("{{ index .list 1 }} {{ index .map \"b\" }} {{ index .nested \"inner\" \"leaf\" }}", "b 2 x"),
    ("{{ index (list (list 1 2) (list 3 4)) 1 0 }}", "3"),
    ("{{ index .map \"nope\" }}", "<no value>"),
    ("{{ slice .list 1 }} {{ slice .list 1 2 }} {{ slice \"hello\" 1 3 }} {{ slice .list }}", "[b c] [b] el [a b c]"),
    ("{{ print \"a\" 1 2 \"b\" true nil }}", "a1 2btrue <nil>"),
    ("{{ println 1 \"a\" }}", "1 a\n"),
    ("{{ html \"<a href='x'>&\\\"\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"),
    ("{{ js \"it's <b> \\\"q\\\" = \\\\\" }}", "it\\'s \\u003Cb\\u003E \\\"q\\\" \\u003D \\\\"),
    ("{{ urlquery \"a b&c=d/é\" }}", "a+b%26c%3Dd%2F%C3%A9"),
    # printf verbs.
    ('{{ printf "%s|%d|%v|%q|%t" "s" 42 .list "q\\n" true }}', 's|42|[a b c]|"q\\n"|true'),
    ('{{ printf "%f|%.2f|%8.3f|%e|%g|%G" 1.5 3.14159 2.5 1234.5678 1e7 1e-7 }}', "1.500000|3.14|   2.500|1.234568e+03|1e+07|1E-07"),
    ('{{ printf "%x|%X|%o|%O|%b|%#x|%x" 255 255 8 8 5 255 "hi" }}', "ff|FF|10|0o10|101|0xff|6869"),
    ('{{ printf "[%5s][%-5s][%05d][%+d][%5.1f][%-6d]" "ab" "ab" 42 3 3.14159 7 }}', "[   ab][ab   ][00042][+3][  3.1][7     ]"),
    ('{{ printf "%%|%T|%T|%T|%T|%T|%T" 1 1.5 "s" true .list .map }}', "%|int|float64|string|bool|[]interface {}|map[string]interface {}"),
    ('{{ printf "%c|%q|%U" 65 65 233 }}', "A|'A'|U+00E9"),
    ('{{ printf "%d" "x" }}|{{ printf "%s" 5 }}|{{ printf "%d" }}|{{ printf "%d" 1 2 }}', "%!d(string=x)|%!s(int=5)|%!d(MISSING)|1%!(EXTRA int=2)"),
    ('{{ printf "%v %v" .null .map }}', "<nil> map[a:1 b:2 c:3]"),
    ('{{ printf "%#v" .list }}', '[]interface {}{"a", "b", "c"}'),
    ('{{ printf "%.3s|%5.2s|" "abcdef" "abc" }}', "abc|   ab|"),
    ('{{ printf "%v" 1e21 }} {{ printf "%v" 100000000.0 }}', "1e+21 1e+08"),
    ('{{ printf "%*d" 4 7 }}', "   7"),
    # Dotted (namespaced) function names are calls, not fields.
    ("{{ strings.ToLower \"ABC\" }} {{ \"abc\" | strings.ToUpper }}", "abc ABC"),
    ("{{ .vars.namespace | strings.Title }}", "Acme"),
    # define / template / block.
    ('{{ define "greet" }}hi {{ . }}{{ end }}{{ template "greet" .vars.stage }}!', "hi dev!"),
    ('{{ define "t" }}{{ $x := 1 }}{{ $x }}{{ $ }}{{ end }}{{ $x := 9 }}{{ template "t" "d" }}{{ $x }}', "1d9"),
    ('{{ block "b" .vars.tenant }}[{{ . }}]{{ end }}', "[plat]"),
    ('{{ template "none_given" }}{{ define "none_given" }}{{ . }}{{ end }}', "<no value>"),
    # Newlines inside actions.
    ("{{ printf\n  \"%s\"\n  .text }}", "hello"),
]


@pytest.mark.parametrize(("template", "expected"), CASES)
def test_render(template, expected):
    assert render(template, DATA) == expected


# (template, missing mode, expected) for Go's missingkey option.
MISSING_CASES = [
    ("{{ .nope }}", "default", "<no value>"),
    ("{{ .nope }}", "invalid", "<no value>"),
    ("{{ .nope }}", "zero", "<no value>"),
    ("{{ .nope.deeper }}", "default", "<no value>"),
    ("{{ .vars.nope }}-{{ .vars.stage }}", "default", "<no value>-dev"),
    ("{{ .nope | default \"d\" }}", "default", "d"),
    ("{{ if .nope }}y{{ else }}n{{ end }}", "default", "n"),
    ("{{ printf \"%v\" .nope }}", "default", "<nil>"),
    ("{{ range .nope }}x{{ else }}none{{ end }}", "default", "none"),
    ("{{ $x := .nope }}{{ $x.deeper }}", "default", "<no value>"),
    ("{{ .nope }}", "error", None),
]


@pytest.mark.parametrize(("template", "missing", "expected"), [c for c in MISSING_CASES if c[2] is not None])
def test_missing_key_modes(template, missing, expected):
    assert render(template, DATA, missing=missing) == expected


def test_missing_key_error_is_atmos_default():
    with pytest.raises(TemplateError) as info:
        render("line one\n{{ .vars.nope }}", DATA, name="stacks/dev.yaml")
    assert info.value.reason == 'map has no entry for key "nope"'
    assert info.value.line == 2
    assert str(info.value) == 'stacks/dev.yaml:2: at <.vars.nope>: map has no entry for key "nope"'
    assert isinstance(info.value, ConfigError) and info.value.exit_code == 2


def test_missing_mode_is_validated():
    with pytest.raises(ValueError, match="missing must be one of"):
        render("x", {}, missing="bogus")


# (template, expected error substring, line): errors found while parsing.
PARSE_ERRORS = [
    ("{{ end }}", "unexpected {{end}}", 1),
    ("a\n{{ else }}", "unexpected {{else}}", 2),
    ("{{ .a ", "unclosed action", 1),
    ("a\nb\n{{ if .x }}\nbody", "missing {{end}} for {{if}} started at line 3", 3),
    ("{{ range .x }}", "missing {{end}} for {{range}} started at line 1", 1),
    ("{{ with .x }}{{ else }}{{ else }}{{ end }}", "expected end; found {{else}}", 1),
    ("{{ break }}", "{{break}} outside {{range}}", 1),
    ("{{ range .x }}{{ else }}{{ continue }}{{ end }}", "{{continue}} outside {{range}}", 1),
    ("\n{{ $y }}", 'undefined variable "$y"', 2),
    ("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}", 'undefined variable "$x"', 1),
    ("{{ $x = 1 }}", 'undefined variable "$x"', 1),
    ("{{ }}", "missing value for command", 1),
    ("{{ if }}{{ end }}", "missing value for if", 1),
    ("{{ .a | 3 }}", "non executable command in pipeline stage 2", 1),
    ("{{ (1 }}", "unclosed left paren", 1),
    ("{{ 1) }}", "unexpected right paren", 1),
    ("{{ \"abc }}", "unterminated quoted string", 1),
    ("{{ `abc }}", "unterminated raw quoted string", 1),
    ("{{ 'a }}", "unterminated character constant", 1),
    ("{{ 3x }}", "bad number syntax", 1),
    ("{{ .Flags.dry-run }}", "bad character U+002D '-'", 1),
    ("{{ .a.b\"x\" }}", "bad character", 1),
    ("{{ \"a\".b }}", 'unexpected . after term "\\"a\\""', 1),
    ("{{/* unclosed", "unclosed comment", 1),
    ("{{/* c */ x }}", "comment ends before closing delimiter", 1),
    ("{{ \"\\q\" }}", "bad string syntax", 1),
    ("{{ $x, $y := .list }}", "too many declarations in command", 1),
    ("{{ range $i, 3 }}{{ end }}", "range can only initialize variables", 1),
    ("{{ template .x }}", "unexpected field", 1),
    ("{{ if true }}{{ define \"x\" }}{{ end }}{{ end }}", "define must be at the top level", 1),
    ("{{ 1 : 2 }}", "expected :=", 1),
    ("{{ .a, }}", "unexpected char ','", 1),
]


@pytest.mark.parametrize(("template", "message", "line"), PARSE_ERRORS)
def test_parse_errors(template, message, line):
    with pytest.raises(TemplateError) as info:
        parse(template, "t.yaml")
    assert message in str(info.value)
    assert info.value.line == line
    assert str(info.value).startswith(f"t.yaml:{line}:")


# (template, expected error substring, line): errors found while executing.
EXEC_ERRORS = [
    ("{{ .text.field }}", "can't evaluate field field in type string", 1),
    ("\n\n{{ .list.x }}", "can't evaluate field x in type []interface {}", 3),
    ("{{ .null.x }}", "nil pointer evaluating interface {}.x", 1),
    ("{{ .vars.stage 1 }}", "stage is not a method but has arguments", 1),
    ("{{ 1 | .vars.stage }}", "stage is not a method but has arguments", 1),
    ("{{ \"x\" 1 }}", "can't give argument to non-function", 1),
    ("{{ nil }}", "nil is not a command", 1),
    ("{{ index .list 5 }}", "error calling index: index out of range: 5", 1),
    ("{{ index .list \"a\" }}", "cannot index slice/array with type string", 1),
    ("{{ index 3 1 }}", "can't index item of type int", 1),
    ("{{ slice .list 2 1 }}", "invalid slice index: 2 > 1", 1),
    ("{{ len 3 }}", "len of type int", 1),
    ("{{ eq 1 \"1\" }}", "incompatible types for comparison", 1),
    ("{{ eq .list .list }}", "non-comparable type", 1),
    ("{{ lt true false }}", "invalid type for comparison", 1),
    ("{{ eq 1 }}", "missing argument for comparison", 1),
    ("{{ not 1 2 }}", "wrong number of args for not: want 1 got 2", 1),
    ("{{ and }}", "wrong number of args for and", 1),
    ("{{ range .text }}{{ end }}", "range can't iterate over hello", 1),
    ("{{ range $i, $e := 3 }}{{ end }}", "can't use 3 to iterate over more than one variable", 1),
    ("{{ template \"nope\" }}", 'no template "nope" defined', 1),
    ('{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}', "exceeded maximum template depth", 1),
    ("{{ upper 5 }}", "error calling upper: wrong type for value; expected string; got int", 1),
    ("a\nb\n{{ fail \"stop here\" }}", "error calling fail: stop here", 3),
    ("{{ required \"stage is required\" .vars.nope2 }}", 'map has no entry for key "nope2"', 1),
]


@pytest.mark.parametrize(("template", "message", "line"), EXEC_ERRORS)
def test_exec_errors(template, message, line):
    with pytest.raises(TemplateError) as info:
        render(template, DATA, name="t.yaml")
    assert message in str(info.value)
    assert info.value.line == line


def test_required_message_under_missingkey_default():
    with pytest.raises(TemplateError, match="error calling required: stage is required"):
        render('{{ required "stage is required" .vars.nope }}', DATA, missing="default")


def test_unknown_function_is_refused_by_name_before_running():
    with pytest.raises(UnsupportedTemplateError) as info:
        render("ok\n{{ if false }}{{ foo 1 }}{{ end }}", DATA, name="n")
    assert 'function "foo" not defined' in str(info.value)
    assert info.value.line == 2


def test_call_is_refused():
    with pytest.raises(UnsupportedTemplateError, match='function "call"'):
        render("{{ call .x }}", DATA)


def test_caller_functions_are_used_and_take_precedence():
    def component(name, stack):
        return {"outputs": {"id": f"{name}@{stack}"}}

    funcs = {"atmos.Component": component, "upper": lambda s: "shadowed"}
    text = '{{ (atmos.Component "vpc" .stack).outputs.id }} {{ upper "x" }}'
    assert render(text, {"stack": "dev"}, funcs=funcs) == "vpc@dev shadowed"


def test_caller_function_errors_are_located():
    def broken(*args):
        raise RuntimeError("backend down")

    with pytest.raises(TemplateError) as info:
        render("\n{{ atmos.Store \"s\" }}", {}, funcs={"atmos.Store": broken}, name="n")
    assert "error calling atmos.Store: backend down" in str(info.value)
    assert info.value.line == 2


def test_env_reads_the_given_mapping_only(monkeypatch):
    monkeypatch.setenv("GT_FROM_PROCESS", "process")
    env = {"USER": "me"}
    assert render('{{ env "USER" }}|{{ env "GT_FROM_PROCESS" }}', {}, env=env) == "me|"
    assert render('{{ env "GT_FROM_PROCESS" }}', {}) == "process"
    assert render('{{ env "USER" | default (env "USERNAME") }}', {}, env={"USERNAME": "u"}) == "u"


def test_custom_delimiters():
    assert render("<<.vars.stage>>-{{ x }}", DATA, delimiters=("<<", ">>")) == "dev-{{ x }}"
    assert render("[[- .vars.stage -]] [[/* c */]]x", DATA, delimiters=("[[", "]]")) == "devx"


def test_functions_used_lists_every_call_including_dotted_names():
    tpl = parse('{{ .a | default "x" | strings.ToLower }}{{ if eq 1 1 }}{{ (atmos.Component "c" .s).vars }}{{ end }}')
    assert tpl.functions_used == frozenset({"default", "strings.ToLower", "eq", "atmos.Component"})


def test_parse_is_cached_per_text():
    first = parse("{{ .vars.stage }}-cached", "a.yaml")
    second = parse("{{ .vars.stage }}-cached", "b.yaml")
    assert isinstance(first, Template)
    assert first._program is second._program
    assert (first.name, second.name) == ("a.yaml", "b.yaml")


def test_errors_carry_the_name_of_the_template_that_failed():
    parse("{{ .x }}", "one.yaml")
    with pytest.raises(TemplateError, match=r"^two.yaml:1: at <\.x>: map has no entry"):
        parse("{{ .x }}", "two.yaml").render({})


def test_has_template():
    assert has_template("a {{ b }}")
    assert not has_template("no braces { here }")


def test_data_may_be_read_only_mappings():
    from types import MappingProxyType

    data = MappingProxyType({"vars": MappingProxyType({"stage": "dev", "list": ("a", "b")})})
    assert render("{{ .vars.stage }} {{ .vars.list }} {{ len .vars }} {{ range $k, $v := .vars }}{{ $k }}{{ end }}", data) == "dev [a b] 2 liststage"


# Every distinct {{ }} expression found in Atmos's examples/ and tests/fixtures/ that needs no
# Atmos-only function, with a plausible context (written for this test; no Atmos file is copied).
SURVEY_CONTEXT = {
    "vars": {"stage": "dev", "environment": "ue2", "tenant": "plat", "namespace": "acme", "region": "us-east-2", "app_name": "app", "name": "n"},
    "settings": {"config": {"a": "1", "b": "2", "c": "3"}, "override_config": {"x": 1}, "base_config": {"y": [1, 2]}},
    "locals": {"namespace": "acme", "pr_number": "42"},
    "atmos_component": "vpc",
    "atmos_stack": "plat-ue2-dev",
    "stack": "plat-ue2-dev",
    "flavor": "blue",
    "Values": {
        "tls_enabled": True, "aws_load_balancer_controller_enabled": False, "alb_ssl_redirect_enabled": "true",
        "alb_certificate_autodiscovery_enabled": False, "tls_certificate_cluster_issuer": "letsencrypt",
        "tls_secret_name": "tls", "service_type": "", "alb_group_name": None, "hostname_template": "%s.%s.example.com",
        "stage": "dev", "environment": "ue2", "ingress_class": "alb", "release_name": "", "namespace": "ns",
        "chart_repo": "https://charts", "chart_version": "1.2.3",
    },
    "Config": {
        "project_name": "My Project!!", "environment": "Prod--East", "author": 'A "quoted" ${x}', "enable_monitoring": False,
        "regions": ["us-east-1", "us-west-2"],
    },
    "ComponentConfig": {"vars": {"tenant": "plat"}},
    "iam_managed_policy_arns": ["arn:a", "arn:b"],
    "iam_source_policy_documents": [],
    "steps": {"components": {"values": ["a", "b"]}},
    "Flags": {"verbose": True},
}
SURVEY_ENV = {"USER": "me", "USERNAME": "me2", "HOME": "/home/me", "service_1_name": "svc1", "service_2_name": "svc2", "GITHUB_TOKEN": "t"}
SURVEY_EXPRESSIONS = [
    "{{ .vars.stage }}",
    "{{ .vars.namespace }}-{{ .vars.stage }}",
    '{{ if eq .vars.stage "local" }}{{ .vars.stage }}{{ else }}{{ .vars.tenant }}-{{ .vars.stage }}{{ end }}',
    "{{ .locals.namespace | upper }}",
    "{{ strings.Title .atmos_component }}",
    "{{ .atmos_stack | strings.Quote }}",
    "{{ .vars.name | strings.Quote }}",
    '{{ env "USER" | default (env "USERNAME") }}',
    '{{ env "HOME" | default "/tmp" }}',
    '{{ env "ATMOS_TEST_ENV_VAR" | default "not-set" }}',
    '{{env "GITHUB_TOKEN"}}',
    '{{ expandenv "Service 2 name is $service_2_name" }}',
    '{{ dict "a" "1" "b" "2" | toJson }}',
    '{{ toJson (list "a" "b" "c") }}',
    '{{ toJson (dict "x" 1 "y" 2 "z" 3) }}',
    '{{- toJson (list "one" "two") -}}',
    '{{- toJson (dict "key" "value") -}}',
    '{{ toJson (dict "list" (list 1 2 3) "map" (dict "a" "x" "b" "y")) }}',
    "{{ toJson .settings.base_config }}",
    "{{ toJson .settings.override_config }}",
    '{{ list "vpc-111" "vpc-222" "vpc-333" | toJson }}',
    '{{ dict "vpc_id" "vpc-base" "region" .vars.region | toJson }}',
    '{{ printf "acme-%s-tfstate" .vars.region }}',
    '{{ .flavor | default "foo" }}',
    '{{ if eq .vars.stage "prod" }}p{{ end }}',
    '{{ eq .vars.stage "prod" }}',
    '{{if (index .ComponentConfig.vars "tenant") }}t{{ end }}',
    '{{- if eq (printf "%v" .Values.tls_enabled) "true" }}tls{{- end }}',
    '{{- if eq (printf "%v" .Values.alb_certificate_autodiscovery_enabled) "false" }}x{{- else }}y{{- end }}',
    '{{- if (index .Values "tls_certificate_cluster_issuer") }}{{ .Values.tls_certificate_cluster_issuer | quote }}{{- end }}',
    "{{- with .Values.tls_secret_name }}{{ . | quote }}{{- end }}",
    '{{ index .Values "service_type" | default "NodePort" }}',
    '{{ index .Values "alb_group_name" | default "common" }}',
    "{{ printf .Values.hostname_template .Values.stage .Values.environment | quote }}",
    "{{ .Values.ingress_class | quote }}",
    '{{ .Values.release_name | default "mock-release" }}',
    '{{ .Values.chart_repo | default "https://charts.example.com" }}',
    "{{ .Values.chart_version | quote }}",
    '{{ .Config.author | default "Unknown" }}',
    "{{ .Config.enable_monitoring | default false }}",
    '{{ .Config.author | replace `"` `\\"` | replace `${` `$${` }}',
    '{{ if (kindIs "slice" .Config.regions) }}{{ range .Config.regions }}{{ . }},{{ end }}{{ end }}',
    '{{ range .Config.regions }}{{ replace . "-" "_" }} {{ end }}',
    "{{ $project := regexReplaceAll `-+` (regexReplaceAll `[^a-z0-9-]` (.Config.project_name | lower) `-`) `-`"
    " | strings.TrimPrefix `-` | strings.TrimSuffix `-` | strings.Trunc 31 }}"
    "{{ $environment := regexReplaceAll `-+` (regexReplaceAll `[^a-z0-9-]` (.Config.environment | lower) `-`) `-`"
    " | strings.TrimPrefix `-` | strings.TrimSuffix `-` | strings.Trunc 31 }}"
    '{{ $bucket := printf "%s-%s" $project $environment }}'
    "{{ $bucket = regexReplaceAll `-+` (regexReplaceAll `^-+` $bucket ``) `-` }}"
    "{{ $bucket = regexReplaceAll `-$` $bucket `` }}{{ $bucket }}",
    '{{ if hasKey . "iam_managed_policy_arns" }}{{ range $i, $iam_managed_policy_arn := .iam_managed_policy_arns }}{{ $iam_managed_policy_arn }}{{ end }}{{ end }}',
    '{{ if hasKey . "iam_source_policy_documents" }}{{ range $i, $doc := .iam_source_policy_documents }}{{ $doc }}{{ end }}{{ end }}',
    "{{ len .steps.components.values }}",
    "{{ range .steps.components.values }}{{ . }}{{ end }}",
    "{{ if .Flags.verbose }}v{{ end }}",
    '{{ splitList "," "us-east-1,us-west-2" }}',
    '{{ "hello-world" }}',
    '{{"\\n      - "}}',
    "{{`{{ .vars.tenant }}`}}",
    "{{ . | quote }}",
    '{{- $ns := .vars.namespace -}}{{- $tenant := .vars.tenant -}}{{- $env := .vars.environment -}}{{- $stage := .vars.stage -}}'
    '{{- $stack_name := "" -}}'
    "{{- if eq $ns \"\" -}}{{- fail \"Error: 'namespace' is required.\" -}}{{- end -}}"
    "{{- if and (ne $tenant \"\") (eq $ns \"\") -}}{{- fail \"Error: 'tenant' requires 'namespace'.\" -}}{{- end -}}"
    "{{- if and (ne $env \"\") (or (eq $tenant \"\") (eq $ns \"\")) -}}{{- fail \"Error: 'environment' requires 'tenant' and 'namespace'.\" -}}{{- end -}}"
    "{{- if and (ne $stage \"\") (or (eq $env \"\") (eq $tenant \"\") (eq $ns \"\")) -}}{{- fail \"x\" -}}{{- end -}}"
    '{{- if ne $tenant "" -}}{{- $stack_name = $tenant -}}{{- end -}}'
    '{{- if ne $env "" -}}{{- $stack_name = printf "%s-%s" $stack_name $env -}}{{- end -}}'
    '{{- if ne $stage "" -}}{{- $stack_name = printf "%s-%s" $stack_name $stage -}}{{- end -}}'
    "{{- $stack_name -}}",
]
SURVEY_EXPECTED = {
    '{{ .atmos_stack | strings.Quote }}': '"plat-ue2-dev"',
    '{{ env "USER" | default (env "USERNAME") }}': "me",
    '{{ expandenv "Service 2 name is $service_2_name" }}': "Service 2 name is svc2",
    '{{ toJson (dict "list" (list 1 2 3) "map" (dict "a" "x" "b" "y")) }}': '{"list":[1,2,3],"map":{"a":"x","b":"y"}}',
    '{{ index .Values "alb_group_name" | default "common" }}': "common",
    '{{ .Config.author | replace `"` `\\"` | replace `${` `$${` }}': 'A \\"quoted\\" $${x}',
    SURVEY_EXPRESSIONS[43]: "my-project-prod-east",
}


@pytest.mark.parametrize("expression", SURVEY_EXPRESSIONS)
def test_survey_expressions_render(expression):
    output = render(expression, SURVEY_CONTEXT, env=SURVEY_ENV)
    assert "<no value>" not in output
    if expression in SURVEY_EXPECTED:
        assert output == SURVEY_EXPECTED[expression]


def test_survey_stack_name_template():
    assert render(SURVEY_EXPRESSIONS[-1], SURVEY_CONTEXT) == "plat-ue2-dev"
    no_namespace = {**SURVEY_CONTEXT, "vars": {**SURVEY_CONTEXT["vars"], "namespace": ""}}
    with pytest.raises(TemplateError, match="Error: 'namespace' is required."):
        render(SURVEY_EXPRESSIONS[-1], no_namespace)


# The field-only expressions of the survey ({{ .a.b }}, also written {{.a.b}} and with trim markers):
# each renders the value at its path.
SURVEY_FIELD_PATHS = """
.Arch .Arguments.component .Arguments.name .Arguments.repo .Arguments.script .Arguments.service .Component .Component.atmos_stack
.Component.component .Component.vars.app_name .Component.vars.replicas .Component.vars.version .ComponentConfig.backend.bucket
.ComponentConfig.component .ComponentConfig.deps .ComponentConfig.settings.config.is_prod
.ComponentConfig.settings.spacelift.workspace_enabled .ComponentConfig.vars.environment .ComponentConfig.vars.namespace
.ComponentConfig.vars.region .ComponentConfig.vars.stage .ComponentConfig.vars.tenant .ComponentConfig.workspace
.ComponentConfig.xxx.yyy.zzz .Config.author .Config.cloud_provider .Config.enable_logging .Config.enable_monitoring
.Config.environment .Config.license .Config.name .Config.namespace .Config.project_name .Config.regions .Config.subdirectory
.Config.terraform_version .Config.vendor_version .Config.year .Environment .Flags.environment .Flags.location .Flags.role
.Flags.stack .Flags.target .Flags.version .OS .Release.Name .Release.Namespace .SHA .ScaffoldPath .SemVer .Stack .TemplateName
.TrailingArgs .Values.image.repository .Values.image.tag .Values.ingress_api .Values.installed .Values.replicaCount
.Values.server_name .Values.service.port .Values.service.type .Version .app_name .atlantis_project .atmos_component .atmos_stack
.atmos_stack_file .catalog_ref .component .component_folder .enabled .env.ATMOS_ENV_STEP_TEMPLATE_ONLY_CLI_TEST .env.HEALTH_URL
.env.USER .env.VAR .env.WEBHOOK_URL .environment .error .flavor .locals.a .locals.attempted_cross_file_domain .locals.b
.locals.backend_bucket .locals.c .locals.chart_repo .locals.computed_value .locals.dashboard_url .locals.datastream_name
.locals.db_connection .locals.db_engine .locals.db_identifier .locals.db_version .locals.default_tags .locals.deploy_env
.locals.domain .locals.env_db_host .locals.env_endpoint .locals.env_prefix .locals.env_suffix .locals.environment
.locals.file_computed .locals.file_env .locals.file_namespace .locals.final_local .locals.full_chain .locals.full_name
.locals.full_prefix .locals.home_dir .locals.mixin_env .locals.mixin_namespace .locals.mixin_value .locals.name_prefix
.locals.namespace .locals.pr_number .locals.primary_region .locals.release_name .locals.release_prefix .locals.resource_prefix
.locals.shared_key .locals.stage .locals.stage_name .locals.static_value .locals.tags .locals.test_env_value .locals.vpc_cidr
.matrix.environment .matrix.go .matrix.os .matrix.region .metadata.component .metadata.digest .metadata.image .namespace
.providers.context.values.environment .providers.context.values.product .providers.context.values.region .region .service_1_name
.service_2_name .service_account_namespace .service_environment .settings.a .settings.b .settings.c .settings.config.a
.settings.config.b .settings.config.c .settings.context.catalog_ref .settings.context.environment .settings.context.stage
.settings.database.engine .settings.database.version .settings.nested.key .settings.packer.org_id
.settings.packer.org_management_account_id .settings.packer.region .settings.packer.source_ami
.settings.packer.source_ami_description .settings.packer.source_ami_name .settings.packer.source_ami_owner_account_id
.settings.region.primary .settings.substage .settings.team .settings.version .spacelift_stack .stack .stack_count .status
.step.name .steps.assignee.value .steps.build.outputs.image .steps.components.values .steps.deployment_message.value
.steps.env.value .steps.environment.value .steps.file.value .steps.formatted.value .steps.message.value .steps.notes.value
.steps.priority.value .steps.push.outputs.image .steps.select_environment.value .steps.select_file.value
.steps.select_regions.values .steps.title.value .steps.trigger.metadata.status_code .steps.username.value .type .vars.account_id
.vars.account_name .vars.app_name .vars.app_version .vars.aws_profile .vars.bucket_name .vars.cidr_block .vars.cluster_name
.vars.control_plane_role .vars.environment .vars.git_endpoint_ip .vars.git_password .vars.git_port .vars.git_url
.vars.git_username .vars.image .vars.interval .vars.message .vars.namespace .vars.network.subnet_count .vars.network.vpc_cidr
.vars.overlay .vars.project_name .vars.region .vars.replicas .vars.service_port .vars.stage .vars.tenant .vars.upstream_component
.vars.versioning_enabled .vars.vpc_name .version.nginx .version.opentofu .version.redis .version.widget .workspace
""".split()


def _context_for(path):
    data = value = {}
    names = path.lstrip(".").split(".")
    for name in names[:-1]:
        value[name] = {}
        value = value[name]
    value[names[-1]] = "v"
    return data


@pytest.mark.parametrize("path", SURVEY_FIELD_PATHS)
def test_survey_field_expressions_render(path):
    context = _context_for(path)
    for expression in ("{{ %s }}", "{{%s}}", "{{- %s -}}"):
        assert render(expression % path, context) == "v"


# Survey finds that are not valid Go templates (GitHub Actions, Jinja, prose, dashed flag names):
# Go rejects them when parsing, and so does this engine.
NOT_GO_TEMPLATES = ["{{ .version.* }}", "{{ if .Flags.dry-run }}x{{ end }}", "{{ .Flags.auto-approve }}", "{{ .not-exist }}", "{{ github.event.inputs.stage || 'dev' }}", "{{ }}", "{{ ... }}"]


@pytest.mark.parametrize("expression", NOT_GO_TEMPLATES)
def test_survey_non_go_expressions_fail_to_parse(expression):
    with pytest.raises(TemplateError):
        parse(expression)


def test_survey_jinja_style_names_are_unknown_functions():
    with pytest.raises(UnsupportedTemplateError, match='function "app_name" not defined'):
        render("{{ app_name }}", {})


# Atmos-only functions from the survey are refused by name unless the caller provides them.
ATMOS_ONLY = [
    ('{{ toJson (atmos.Component "source-component" .stack).settings.outputs.test_list }}', "atmos.Component"),
    ('{{ atmos.Store "outputs/ssm" "producer" "output-demo" "demo_id" }}', "atmos.Store"),
    ('{{ (atmos.GomplateDatasource "ip").ip }}', "atmos.GomplateDatasource"),
    ('{{ (datasource "ip").ip }}', "datasource"),
    ("{{ collectKeys answers }}", "collectKeys"),
    ("{{ now | unixEpoch }}", "now"),
    ('{{ requiredEnv "REDIS_URL" | quote }}', "requiredEnv"),
    ("{{trimV .Version}}", "trimV"),
]


@pytest.mark.parametrize(("expression", "function"), ATMOS_ONLY)
def test_survey_atmos_functions_are_refused_by_name(expression, function):
    with pytest.raises(UnsupportedTemplateError, match=f'function "{function}"'):
        render(expression, SURVEY_CONTEXT)


# -- properties --------------------------------------------------------------------------------

plain_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80).filter(lambda s: "{{" not in s)


@settings(deadline=None, max_examples=150)
@given(plain_text)
def test_text_without_delimiters_renders_to_itself(text):
    assert render(text, {}) == text


@settings(deadline=None, max_examples=150)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_quoted_string_literal_round_trips(value):
    literal = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert render("{{ " + literal + " }}", {}) == value
    if "`" not in value:
        assert render("{{ `" + value + "` }}", {}) == value


@settings(deadline=None, max_examples=150)
@given(st.text(alphabet=" \t\nab", max_size=10), st.text(alphabet=" \t\nab", max_size=10))
def test_trim_markers_leave_no_whitespace_at_the_boundary(before, after):
    output = render(before + "{{- .x -}}" + after, {"x": "X"})
    assert output == before.rstrip(" \t\r\n") + "X" + after.lstrip(" \t\r\n")
