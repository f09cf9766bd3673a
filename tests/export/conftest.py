"""Each design exported once per test session (cfn-lint takes about a second per template)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint
from cfnlint.match import Match

from stepdance.export import DESIGNS, Written, write


@dataclass(frozen=True)
class Exported:
    written: Written
    text: str
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r["Properties"] for name, r in self.resources.items() if r["Type"] == kind}

    def handler_constants(self, logical_id: str) -> dict[str, str]:
        """The module-level string constants of a function's generated handler module."""
        module = self.resources[logical_id]["Properties"]["Handler"].split(".")[0]
        source = (self.written.template.parent / "functions" / f"{module}.py").read_text()
        return {
            node.targets[0].id: node.value.value
            for node in ast.parse(source).body
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        }


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Exported]:
    out = tmp_path_factory.mktemp("aws")
    found = {}
    for design in DESIGNS:
        written = write(design, out)
        text = written.template.read_text()
        found[design] = Exported(written, text, yaml.safe_load(text))
    return found


class Linted:
    """cfn-lint's matches per design, each template linted once, when first asked for (about a second)."""

    def __init__(self, exported: dict[str, Exported]) -> None:
        self.exported = exported
        self.found: dict[str, list[Match]] = {}

    def __getitem__(self, design: str) -> list[Match]:
        if design not in self.found:
            self.found[design] = lint(self.exported[design].text)
        return self.found[design]


@pytest.fixture(scope="session")
def lint_matches(exported: dict[str, Exported]) -> Linted:
    return Linted(exported)


def functions_dir(exported: Exported) -> Path:
    return exported.written.template.parent / "functions"
