"""The template function library: every Sprig/Gomplate/Go function has a case; every refused one names itself."""

from __future__ import annotations

import pytest

from provisioner_core.gotemplate import TemplateError, UnsupportedTemplateError, parse, render
from provisioner_core.gotemplate.functions import BUILTINS, REFUSED, REFUSED_NAMESPACES
from provisioner_core.gotemplate.regex import translate

DATA = {
    "m": {"b": 2, "a": 1},
    "l": ["b", "a", "c"],
    "nums": [3, 1, 2],
    "s": "Hello World",
    "e": "",
    "none": None,
    "nested": {"x": {"y": "z"}},
    "mixed": ["a", None, "", 0, "b"],
    "users": [{"name": "b"}, {"name": "a"}],
}
ENV = {"HOME": "/home/me", "EMPTY": "", "NAME": "world"}

# (template, expected output), rendered with DATA and ENV.
CASES = [
    # Strings (Sprig).
    ('{{ upper "abc" }} {{ lower "ABC" }} {{ title "hello wide-world" }} {{ untitle "Hello World" }}', "ABC abc Hello Wide-World hello world"),
    ('{{ trim "  x  " }}|{{ trimAll "$" "$$5$" }}|{{ trimall "-" "-x-" }}|{{ trimPrefix "v" "v1.2" }}|{{ trimSuffix ".yaml" "a.yaml" }}', "x|5|x|1.2|a"),
    ('{{ replace "/" "-" "a/b/c" }} {{ repeat 3 "ab" }} {{ "x" | repeat 2 }}', "a-b-c ababab xx"),
    ('{{ substr 0 5 "hello world" }}|{{ substr 6 -1 "hello world" }}|{{ substr -1 2 "hello" }}', "hello|world|he"),
    ('{{ trunc 5 "hello world" }}|{{ trunc -5 "hello world" }}|{{ trunc 50 "hi" }}', "hello|world|hi"),
    ('{{ abbrev 5 "hello world" }} {{ nospace "a b\tc" }} {{ initials "First Try" }} {{ swapcase "AbC" }}', "he... abc FT aBc"),
    ('{{ contains "ll" "hello" }} {{ hasPrefix "he" "hello" }} {{ hasSuffix "lo" "hello" }} {{ "hello" | contains "x" }}', "true true true false"),
    ('{{ quote "a\\"b" 1 }} {{ squote "a" 2 }} {{ quote .none }}|{{ cat "a" 1 .none "b" }}', "\"a\\\"b\" \"1\" 'a' '2' |a 1 b"),
    ('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', "  a\n  b|\n  a"),
    ('{{ plural "one" "many" 1 }} {{ plural "one" "many" 2 }}', "one many"),
    ('{{ wrap 5 "aaa bbb ccc" }}|{{ wrapWith 5 "<br>" "aaa bbb" }}', "aaa\nbbb\nccc|aaa<br>bbb"),
    ('{{ snakecase "FirstName" }} {{ snakecase "HTTPServer" }} {{ kebabcase "FirstName" }} {{ camelcase "http_server" }}', "first_name http_server first-name HttpServer"),
    ('{{ split "/" "a/b" }} {{ (split "/" "a/b")._1 }} {{ splitn "/" 2 "a/b/c" }} {{ splitList "," "a,b" }}', "map[_0:a _1:b] b map[_0:a _1:b/c] [a b]"),
    ('{{ join "," .l }} {{ join "-" (list 1 nil 2) }} {{ sortAlpha .l }} {{ toStrings (list 1 "a") }} {{ toString 1.5 }}', "b,a,c 1-2 [a b c] [1 a] 1.5"),
    # Conversion and math (Sprig).
    ('{{ int "12" }} {{ int 3.9 }} {{ int64 "0x10" }} {{ int "junk" }} {{ float64 "1.5" }} {{ atoi "42" }} {{ toDecimal "0777" }}', "12 3 16 0 1.5 42 511"),
    ("{{ add 1 2 3 }} {{ add1 5 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 7 3 }} {{ mod -7 3 }}", "6 6 -2 24 3 -3 1 -1"),
    ("{{ max 1 5 3 }} {{ biggest 2 9 }} {{ min 4 2 8 }} {{ floor 1.7 }} {{ ceil 1.2 }} {{ round 3.14159 2 }} {{ round 2.5 0 }}", "5 9 2 1 2 3.14 3"),
    ("{{ addf 1.5 2 }} {{ add1f 1.5 }} {{ subf 5 1.5 }} {{ mulf 1.5 2 }} {{ divf 3 2 }} {{ maxf 1 2.5 }} {{ minf 1 2.5 }}", "3.5 2.5 3.5 3 1.5 2.5 1"),
    ("{{ until 3 }} {{ untilStep 0 10 3 }} {{ seq 3 }} {{ seq 2 4 }} {{ seq 5 -2 1 }}", "[0 1 2] [0 3 6 9] 1 2 3 2 3 4 5 3 1"),
    # Defaults and flow control.
    ('{{ default "x" .e }} {{ default "x" "y" }} {{ default "x" .none }} {{ default 5 0 }} {{ .e | default "piped" }}', "x y x 5 piped"),
    ("{{ empty .e }} {{ empty .l }} {{ empty 0 }} {{ empty (list) }} {{ empty (dict) }}", "true false true true true"),
    ('{{ coalesce .none .e "c" "d" }} {{ all 1 "a" }} {{ all 1 "" }} {{ any 0 "" "x" }}', "c true false true"),
    ('{{ ternary "yes" "no" true }} {{ true | ternary "yes" "no" }} {{ ternary "y" "n" (eq 1 2) }}', "yes yes n"),
    ('{{ required "needed" "ok" }}', "ok"),
    # Environment.
    ('{{ env "HOME" }}|{{ env "MISSING" }}|{{ getenv "NAME" }}|{{ expandenv "hi $NAME ${HOME} $$ $1 ${}" }}', "/home/me||world|hi world /home/me   "),
    ('{{ env.Getenv "EMPTY" "fallback" }} {{ env.ExpandEnv "${NAME}!" }}', "fallback world!"),
    # Lists.
    ('{{ list 1 "a" }} {{ tuple 1 2 }} {{ first .l }} {{ last .l }} {{ rest .l }} {{ initial .l }} {{ first (list) }}', "[1 a] [1 2] b c [a c] [b a] <no value>"),
    ('{{ append .l "d" }} {{ push .l "e" }} {{ prepend .l "z" }} {{ concat .l (list 1) (list) }} {{ reverse .l }}', "[b a c d] [b a c e] [z b a c] [b a c 1] [c a b]"),
    ('{{ uniq (list 1 1 "a" "a" 2) }} {{ without .l "a" "c" }} {{ has "a" .l }} {{ has 1 .l }} {{ compact .mixed }}', "[1 a 2] [b] true false [a b]"),
    ('{{ chunk 2 (list 1 2 3) }} {{ mustSlice .l 1 }} {{ deepEqual (list 1) (list 1) }} {{ deepEqual 1 1.0 }}', "[[1 2] [3]] [a c] true false"),
    ('{{ mustFirst .l }} {{ mustLast .l }} {{ mustRest .l }} {{ mustInitial .l }} {{ mustAppend .l 1 }} {{ mustPush .l 2 }} {{ mustPrepend .l 0 }}', "b c [a c] [b a] [b a c 1] [b a c 2] [0 b a c]"),
    ('{{ mustReverse .l }} {{ mustUniq (list 1 1) }} {{ mustWithout .l "b" }} {{ mustHas "c" .l }} {{ mustCompact .mixed }} {{ mustChunk 3 .l }}', "[c a b] [1] [a c] true [a b] [[b a c]]"),
    # Dicts.
    ('{{ dict "a" 1 "b" }} {{ get .m "a" }}|{{ get .m "zz" }}| {{ hasKey .m "b" }} {{ keys .m | sortAlpha }} {{ values (dict "k" "v") }}', "map[a:1 b:] 1|| true [a b] [v]"),
    ('{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }} {{ unset $d "a" }} {{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}', "map[a:1 b:2] map[b:2] [1 3]"),
    ('{{ pick .m "a" }} {{ omit .m "a" }} {{ dig "x" "y" "def" .nested }} {{ dig "x" "q" "def" .nested }}', "map[a:1] map[b:2] z def"),
    ('{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "x" 9 "y" 2)) }}', "map[a:1 b:3 n:map[x:1 y:2]]"),
    ('{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "n" (dict "y" 2)) (dict "a" "") }}', "map[a:2 n:map[x:1 y:2]]"),
    ('{{ mustMerge (dict "a" 1) (dict "b" 2) }} {{ mustMergeOverwrite (dict "a" 1) (dict "a" 2) }} {{ deepCopy .m }} {{ mustDeepCopy .l }}', "map[a:1 b:2] map[a:2] map[a:1 b:2] [b a c]"),
    # Reflection.
    ('{{ kindOf "a" }} {{ kindOf 1 }} {{ kindOf 1.5 }} {{ kindOf .l }} {{ kindOf .m }} {{ kindOf .none }} {{ kindIs "slice" .l }} {{ kindIs "map" .l }}', "string int float64 slice map invalid true false"),
    ('{{ typeOf .l }} {{ typeIs "string" "a" }} {{ typeIsLike "int" 1 }}', "[]interface {} true true"),
    # Encoding.
    ('{{ toJson .m }} {{ toJson "<a&b>" }} {{ toRawJson "<a&b>" }} {{ toJson 1.0 }} {{ toJson 1e21 }} {{ toJson .none }}', '{"a":1,"b":2} "\\u003ca\\u0026b\\u003e" "<a&b>" 1 1e+21 null'),
    ("{{ toPrettyJson .m }}", '{\n  "a": 1,\n  "b": 2\n}'),
    ('{{ mustToJson .l }} {{ mustToRawJson (list "&") }} {{ mustToPrettyJson (list) }}', '["b","a","c"] ["&"] []'),
    ('{{ (fromJson "{\\"a\\": [1, 2]}").a }} {{ fromJson "not json" }} {{ (mustFromJson "{\\"b\\": true}").b }}', "[1 2] <no value> true"),
    ('{{ toYaml (dict "b" (list 1 2) "a" "x") }}', "a: x\nb:\n- 1\n- 2"),
    ('{{ mustToYaml (list "a") }}|{{ toYaml "plain" }}', "- a|plain"),
    ('{{ (fromYaml "a: 1\\nb: [x, y]").b }} {{ fromYamlArray "- 1\\n- 2" }}', "[x y] [1 2]"),
    ('{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b32enc "hi" }} {{ b32dec "NBUQ====" }}', "aGVsbG8= hello NBUQ==== hi"),
    ('{{ sha1sum "abc" }} {{ adler32sum "abc" }}', "a9993e364706816aba3e25717850c26c9cd0d89d 38600999"),
    ('{{ sha256sum "abc" }}', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ('{{ sha512sum "" | trunc 16 }}', "cf83e1357eefb8bd"),
    # Regular expressions (RE2 syntax).
    ('{{ regexMatch "^[a-z]+$" "abc" }} {{ regexMatch "^[a-z]+$" "ab1" }} {{ regexMatch "(" "x" }} {{ mustRegexMatch "b+" "abbc" }}', "true false false true"),
    ('{{ regexFind "[0-9]+" "ab12cd34" }} {{ regexFindAll "[0-9]+" "ab12cd34e5" -1 }} {{ regexFindAll "[0-9]" "123" 2 }}', "12 [12 34 5] [1 2]"),
    ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAll "(?P<first>\\\\w+) (\\\\w+)" "hello world" "$2 $first" }}', "-W-xxW- world hello"),
    ('{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }} {{ regexSplit "z+" "pizza" -1 }} {{ regexSplit "z+" "pizza" 1 }}', "-${1}-${1}- [pi a] [pizza]"),
    ('{{ regexQuoteMeta "1.5+x" }} {{ mustRegexFind "x$" "ax" }} {{ mustRegexFindAll "a" "aa" -1 }}', "1\\.5\\+x x [a a]"),
    ('{{ mustRegexReplaceAll "[[:digit:]]" "a1b2" "#" }} {{ mustRegexReplaceAllLiteral "\\\\d" "a1" "$" }} {{ mustRegexSplit "," "a,b" -1 }}', "a#b# a$ [a b]"),
    ('{{ regexMatch "a$" "a\\n" }} {{ regexMatch "(?m)a$" "a\\n" }} {{ regexReplaceAll "(?<n>b)" "abc" "[$n]" }}', "false true a[b]c"),
    ('{{ regexp.Match "b+" "abc" }} {{ regexp.Find "[0-9]+" "a12" }} {{ regexp.FindAll "a" "aaa" }} {{ regexp.FindAll "a" 2 "aaa" }}', "true 12 [a a a] [a a]"),
    ('{{ regexp.Replace "(a)" "<$1>" "bab" }} {{ regexp.ReplaceLiteral "(a)" "$1" "bab" }} {{ regexp.Split "," "a,b" }} {{ regexp.Split "," 1 "a,b" }}', "b<a>b b$1b [a b] [a,b]"),
    ('{{ regexp.QuoteMeta "a.b" }}', "a\\.b"),
    # Paths.
    ('{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ clean "a//b/../c/" }} {{ ext "x.tar.gz" }} {{ isAbs "/x" }}', "b.txt /a a/c .gz true"),
    ('{{ osBase "a/b" }} {{ osDir "a/b" }} {{ osClean "./x" }} {{ osExt "a.b" }} {{ osIsAbs "x" }} {{ base "" }} {{ dir "x" }}', "b a x .b false . ."),
    ('{{ path.Base "a/b/" }} {{ path.Dir "/a" }} {{ path.Clean "/../x" }} {{ path.Ext "a" }}|{{ path.IsAbs "/" }} {{ path.Join "a" "" "b/../c" }}', "b / /x |true a/c"),
    ('{{ filepath.Base "a/b" }} {{ filepath.Dir "a/b" }} {{ filepath.Clean "a/./b" }} {{ filepath.Ext "f.go" }} {{ filepath.IsAbs "a" }} {{ filepath.Join "/a" "b" }}', "b a a/b .go false /a/b"),
    # Go built-ins.
    ('{{ not true }} {{ len .l }} {{ index .l 0 }} {{ slice .l 0 1 }} {{ print 1 2 }} {{ printf "%03d" 7 }} {{ println "x" }}', "false 3 b [b] 1 2 007 x\n"),
    ('{{ eq 1 1 }} {{ ne 1 1 }} {{ lt 1 2 }} {{ le 1 1 }} {{ gt 2 1 }} {{ ge 1 2 }} {{ html "<" }} {{ js "\'" }} {{ urlquery "a b" }}', "true false true true true false &lt; \\' a+b"),
    # Gomplate: strings.
    ('{{ strings.ToLower "AB" }} {{ strings.ToUpper "ab" }} {{ strings.Title "ab cd" }} {{ strings.ToUpper 12 }}', "ab AB Ab Cd 12"),
    ('{{ strings.Trim "-" "--a--" }} {{ strings.TrimLeft "-" "--a--" }} {{ strings.TrimRight "-" "--a--" }} {{ strings.TrimSpace " a " }}', "a a-- --a a"),
    ('{{ strings.TrimPrefix "-" "-a-" }} {{ strings.TrimSuffix "-" "-a-" }} {{ strings.ReplaceAll "a" "b" "aaa" }}', "a- -a bbb"),
    ('{{ strings.Split "," "a,b" }} {{ strings.SplitN "," 2 "a,b,c" }} {{ strings.Fields " a  b " }} {{ strings.Sort (list "b" "a") }}', "[a b] [a b,c] [a b] [a b]"),
    ('{{ strings.Contains "b" "abc" }} {{ strings.HasPrefix "a" "abc" }} {{ strings.HasSuffix "c" "abc" }}', "true true true"),
    ('{{ strings.Quote "a\\"b" }} {{ strings.Squote "it\'s" }} {{ strings.ShellQuote "a b" }} {{ strings.Repeat 2 "ab" }}', "\"a\\\"b\" 'it''s' 'a b' abab"),
    ('{{ strings.Trunc 3 "abcdef" }} {{ strings.Abbrev 5 "abcdefgh" }} {{ strings.RuneCount "héllo" }} {{ strings.Indent 2 "a\\nb" }}', "abc ab... 5   a\n  b"),
    ('{{ strings.KebabCase "fooBar" }} {{ strings.SnakeCase "fooBar" }} {{ strings.CamelCase "foo_bar baz" }}', "foo-bar foo_bar fooBarBaz"),
    # Gomplate: conv.
    ('{{ conv.ToString 1.5 }} {{ conv.ToString .none }} {{ conv.ToStrings 1 "a" }} {{ conv.ToBool "yes" }} {{ conv.Bool "off" }} {{ bool "TRUE" }}', "1.5 nil [1 a] true false true"),
    ('{{ conv.ToInt "42" }} {{ conv.ToInt64 7.9 }} {{ conv.ToFloat64 "2.5" }} {{ conv.Atoi "12" }} {{ conv.ParseInt "ff" 16 64 }} {{ conv.ParseFloat "1e2" 64 }}', "42 7 2.5 12 255 100"),
    ('{{ conv.Default "d" "" }} {{ conv.Default "d" "v" }} {{ conv.Join .l "+" }} {{ conv.Has .m "a" }} {{ conv.Slice 1 2 }} {{ conv.Dict "k" 1 }}', "d v b+a+c true [1 2] map[k:1]"),
    # Gomplate: coll.
    ('{{ coll.Dict "a" 1 }} {{ coll.Slice "x" }} {{ coll.Has .l "a" }} {{ coll.Keys .m }} {{ coll.Values .m }}', "map[a:1] [x] true [a b] [1 2]"),
    ('{{ coll.Append "d" .l }} {{ coll.Prepend "z" .l }} {{ coll.Uniq (list 1 1) }} {{ coll.Reverse .l }} {{ coll.Flatten (list 1 (list 2 (list 3))) }}', "[b a c d] [z b a c] [1] [c a b] [1 2 3]"),
    ('{{ coll.Sort .nums }} {{ sort .l }} {{ range coll.Sort "name" .users }}{{ .name }}{{ end }} {{ coll.Merge (dict "a" 1) (dict "a" 2 "b" 3) }}', "[1 2 3] [a b c] ab map[a:1 b:3]"),
    ('{{ coll.Pick "a" .m }} {{ coll.Omit "a" .m }}', "map[a:1] map[b:2]"),
    # Gomplate: data.
    ('{{ data.ToJSON .m }} {{ toJSON .l }} {{ data.ToJSONPretty "  " (list 1) }} {{ toJSONPretty " " (dict) }}', '{"a":1,"b":2} ["b","a","c"] [\n  1\n] {}'),
    ('{{ data.ToYAML .m }}{{ toYAML (list 1) }}', "a: 1\nb: 2\n- 1\n"),
    ('{{ (data.JSON "{\\"a\\":1}").a }} {{ (json "{\\"b\\":2}").b }} {{ data.JSONArray "[1]" }} {{ jsonArray "[2]" }}', "1 2 [1] [2]"),
    ('{{ (data.YAML "a: 1").a }} {{ (yaml "b: 2").b }} {{ data.YAMLArray "- x" }} {{ yamlArray "[y]" }}', "1 2 [x] [y]"),
    # Gomplate: math.
    ('{{ math.Add 1 2 }} {{ math.Add 1 2.5 }} {{ math.Sub 5 2 }} {{ math.Mul 2 3 }} {{ math.Div 7 2 }} {{ math.Rem 7 3 }} {{ math.Pow 2 10 }}', "3 3.5 3 6 3.5 1 1024"),
    ('{{ math.Seq 3 }} {{ math.Seq 2 4 }} {{ math.Seq 5 1 2 }} {{ math.Max 1 3 2 }} {{ math.Min 2 1.5 }} {{ math.Abs -3 }}', "[1 2 3] [2 3 4] [5 3 1] 3 1.5 3"),
    ('{{ math.Ceil 1.1 }} {{ math.Floor 1.9 }} {{ math.Round 2.5 }} {{ math.IsInt 1 }} {{ math.IsFloat "1.5" }} {{ math.IsNum "x" }} {{ math.Add "1" "2" }}', "2 1 3 true true false 3"),
    # Gomplate: test, base64, crypto.
    ('{{ test.Required "v" }} {{ test.Ternary "a" "b" 1 }} {{ test.Kind .l }} {{ kind 1 }} {{ test.IsKind "number" 1.5 }} {{ isKind "map" .m }}', "v a slice int true true"),
    ('{{ test.Assert true }}{{ assert "msg" 1 }}ok', "ok"),
    ('{{ base64.Encode "hi" }} {{ base64.Decode "aGk" }}', "aGk= hi"),
    ('{{ crypto.SHA1 "abc" | trunc 8 }} {{ crypto.SHA224 "abc" | trunc 8 }} {{ crypto.SHA256 "abc" | trunc 8 }}', "a9993e36 23097d22 ba7816bf"),
    ('{{ crypto.SHA384 "abc" | trunc 8 }} {{ crypto.SHA512 "abc" | trunc 8 }}', "cb00753f ddaf35a1"),
]


@pytest.mark.parametrize(("template", "expected"), CASES)
def test_function(template, expected):
    assert render(template, DATA, env=ENV) == expected


# (template, error substring): functions that fail.
ERRORS = [
    ('{{ fail "boom" }}', "error calling fail: boom"),
    ('{{ required "need x" "" }}', "error calling required: need x"),
    ('{{ required "need x" .none }}', "error calling required: need x"),
    ("{{ ternary 1 2 \"yes\" }}", "expected bool; got string"),
    ("{{ repeat \"3\" \"x\" }}", "expected int; got string"),
    ("{{ first 3 }}", "Cannot find first on type int"),
    ("{{ div 1 0 }}", "integer divide by zero"),
    ("{{ math.Div 1 0 }}", "divide by zero"),
    ('{{ mustFromJson "nope" }}', "error calling mustFromJson"),
    ('{{ mustRegexMatch "(" "x" }}', "error parsing regexp"),
    ('{{ regexFind "(?=x)" "x" }}', "invalid or unsupported Perl syntax"),
    ('{{ regexFind "(a)\\\\1" "aa" }}', "invalid escape sequence"),
    ('{{ test.Fail "why" }}', "template generation failed: why"),
    ('{{ test.Required "" }}', "a required value was not set"),
    ('{{ test.Assert "must hold" false }}', "assertion failed: must hold"),
    ('{{ data.JSON "[1]" }}', "expected a JSON object"),
    ("{{ no_such_function 1 }}", 'function "no_such_function" not defined'),
    ('{{ set .frozen "a" 1 }}', "read-only"),
    ('{{ conv.ParseInt "zz" 10 64 }}', "invalid syntax"),
    ('{{ base64.Decode "!!" }}', "illegal base64 data"),
    ('{{ printf 1 }}', "expected string; got int"),
]


@pytest.mark.parametrize(("template", "message"), ERRORS)
def test_function_errors(template, message):
    from types import MappingProxyType

    with pytest.raises(TemplateError) as info:
        render(template, {**DATA, "frozen": MappingProxyType({})}, env=ENV)
    assert message in str(info.value)


def test_unicode_regex_classes_are_refused():
    with pytest.raises(UnsupportedTemplateError, match="Unicode class"):
        render('{{ regexFind "\\\\pL+" "abc" }}', {})


def test_regex_translation():
    assert translate("a$") == "a\\Z"
    assert translate("(?m)a$") == "(?m)a$"
    assert translate("(?<year>\\d+)\\z") == "(?P<year>\\d+)\\Z"
    assert translate("[[:alpha:]_]") == "[A-Za-z_]"
    assert translate("\\Q1.5\\E") == "1\\.5"


def test_every_builtin_has_a_case():
    covered: set[str] = set()
    for template, _ in CASES:
        covered |= parse(template).functions_used
    for template, _ in ERRORS:
        covered |= parse(template).functions_used
    assert sorted(set(BUILTINS) - covered) == []


# Gomplate's cloud namespaces are not listed in core: any namespace the engine does not provide is refused.
REFUSED_EXAMPLES = sorted(REFUSED) + [f"{namespace}.Anything" for namespace in sorted(REFUSED_NAMESPACES)] + ["aws.EC2Region", "gcp.Meta"]


@pytest.mark.parametrize("name", REFUSED_EXAMPLES)
def test_refused_functions_name_themselves(name):
    with pytest.raises(UnsupportedTemplateError) as info:
        render("{{ " + name + " }}", {})
    assert f'function "{name}"' in str(info.value)
    assert "not defined" not in str(info.value)


@pytest.mark.parametrize(("name", "reason"), [("now", "non-deterministic"), ("uuidv4", "non-deterministic"), ("time.Now", "non-deterministic"), ("atmos.Component", "Atmos function"), ("datasource", "external data"), ("semverCompare", "not supported"), ("aws.EC2Region", "namespace is not one this engine provides")])
def test_refusals_say_why(name, reason):
    with pytest.raises(UnsupportedTemplateError, match=reason):
        render("{{ " + name + " }}", {})


def test_a_refused_function_can_be_supplied_by_the_caller():
    assert render("{{ now }}", {}, funcs={"now": lambda: "frozen-clock"}) == "frozen-clock"
