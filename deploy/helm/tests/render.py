#!/usr/bin/env python3
"""Renders or lints the jolt chart offline with Helm's own Go code (PyPI helm-python-sdk).

    render.py render CHART VALUES.yaml OUT.yaml   # every manifest, one multi-document file
    render.py lint CHART VALUES.yaml              # helm lint --strict; exit 1 on any finding

Used by tests/it/helm_chart.rs; values files are under deploy/helm/tests/values/.
"""
import json
import sys

import helm_python as helm


def load_values(path):
    with open(path, encoding="utf-8") as f:
        return helm.values_from_yaml(f.read()) or {}


def render(chart, values, out):
    manifests = helm.Chart.load(chart).render(
        load_values(values), name="jolt", namespace="monitoring", is_install=True
    )
    with open(out, "w", encoding="utf-8") as f:
        for path in sorted(manifests):
            if not path.endswith((".yaml", ".yml")) or not manifests[path].strip():
                continue
            f.write(f"---\n# Source: {path}\n{manifests[path].strip()}\n")


def lint(chart, values):
    report = helm.lint(chart, load_values(values), strict=True, namespace="monitoring")
    findings = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2]
    findings += [{"error": e} for e in report.get("errors", []) or []]
    print(json.dumps(report, indent=2))
    return 1 if findings else 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "render":
        render(*args)
    elif cmd == "lint":
        sys.exit(lint(*args))
    else:
        sys.exit(f"unknown command {cmd}")
