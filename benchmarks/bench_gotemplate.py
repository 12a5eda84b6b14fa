"""Benchmark 5: renders per second of three representative Atmos template values.

Parsing is cached per distinct text, so this measures rendering: the cost paid for each of the
thousands of stack values a resolution touches.
"""

from __future__ import annotations

import argparse
import time

from provisioner_core.gotemplate import parse, render

DATA = {
    "vars": {"namespace": "acme", "tenant": "plat", "environment": "ue2", "stage": "dev"},
    "settings": {"config": {"a": "x"}},
    "atmos_component": "vpc/flow-logs",
}

TEMPLATES = {
    "field pair": "{{ .vars.namespace }}-{{ .vars.stage }}",
    "if/else": '{{ if eq .vars.stage "local" }}{{ .vars.stage }}{{ else }}{{ .vars.tenant }}-{{ .vars.stage }}{{ end }}',
    "pipeline": '{{ .atmos_component | replace "/" "-" }}-{{ (index .settings.config "a") | default "x" | quote }}',
}


def per_second(function, seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            function()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent on each measurement")
    args = parser.parse_args()
    print(f"{'template':<12} {'Template.render/s':>18} {'render(text)/s':>15}")
    for label, text in TEMPLATES.items():
        template = parse(text)
        direct = per_second(lambda template=template: template.render(DATA), args.seconds)
        cached = per_second(lambda text=text: render(text, DATA), args.seconds)
        print(f"{label:<12} {direct:>18,.0f} {cached:>15,.0f}")


if __name__ == "__main__":
    main()
