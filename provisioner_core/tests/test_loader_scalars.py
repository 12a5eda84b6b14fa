"""The stack loader reads every scalar exactly as ruamel.yaml's own safe loader does.

The loader looks the YAML version up once per load instead of once per scalar (a third of
the parse time; docs/performance.md, benchmark 3): these tests hold that it changes no value.
"""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from provisioner_core.stacks.loader import YamlCache, _yaml

# Every implicit type YAML 1.1 and 1.2 disagree on, and the ones they agree on.
SCALARS = """\
yes_: yes
no_: No
on_: on
off_: OFF
true_: true
false_: False
y_: y
octal_c: 017
octal_o: 0o17
hex_: 0x1F
binary_: 0b101
sexagesimal: 1:30
underscored: 1_000
float_: 1.5e3
inf_: .inf
nan_: .NaN
null_: ~
null_word: null
empty:
date_: 2026-11-30
stamp: 2026-11-30T19:01:16Z
plain: hello
quoted: "yes"
version: 1.10
list_: [yes, 017, ~, 1.0]
"""


def _stock(text: str) -> object:
    return YAML(typ="safe").load(text)


@pytest.mark.parametrize("directive", ["", "%YAML 1.1\n---\n", "%YAML 1.2\n---\n"])
def test_every_scalar_reads_as_ruamel_reads_it(directive):
    text = directive + SCALARS
    assert _yaml().load(text) == _stock(text)


def test_one_loader_gives_each_document_the_stock_values(tmp_path):
    # The looked-up version lives for one load: files read one after another by one cache
    # (as a run reads them) get the same values as a fresh stock loader per file.
    cache = YamlCache(tmp_path)
    texts = [SCALARS, "%YAML 1.1\n---\n" + SCALARS, "a: yes\nb: 017\n", SCALARS]
    for index, text in enumerate(texts):
        path = tmp_path / f"f{index}.yaml"
        path.write_text(text)
        assert cache.load(path) == _stock(text), text


def test_the_pure_parser_reads_as_ruamel_reads():
    # Without the C parser (an interpreter without ruamel.yaml.clib) %YAML is honoured and
    # changes the version for later loads too: the loader keeps ruamel's answers there as well.
    ours, stock = _yaml(), YAML(typ="safe", pure=True)
    ours.Parser = stock.Parser  # the pure-Python parser, as on an interpreter without ruamel.yaml.clib
    for text in ("a: yes\nb: 017\n", "%YAML 1.1\n---\na: yes\nb: 017\n", "a: yes\nb: 017\n"):
        assert ours.load(text) == stock.load(text), text
