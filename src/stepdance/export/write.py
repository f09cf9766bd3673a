"""Writing a design's export to disk: ``<out>/<design>/template.yaml`` and its ``functions/`` directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from stepdance.export.plan import Plan, plan
from stepdance.export.sam import CODE_DIR, template
from stepdance.export.sources import handler_module, requirements

TEMPLATE = "template.yaml"


class ExportError(Exception):
    """The export cannot be written where it was asked to go."""


@dataclass(frozen=True, slots=True)
class Written:
    design: str
    template: Path
    functions: tuple[Path, ...]  # the handler modules and requirements.txt


def template_yaml(built: Plan) -> str:
    """The SAM template of a design's plan, as YAML text."""
    return yaml.safe_dump(template(built), sort_keys=False, width=110, allow_unicode=True)


def write(design: str, out: Path) -> Written:
    """Write ``design``'s template and handler code under ``out/<design>/`` (files there are replaced)."""
    built = plan(design)
    text = template_yaml(built)
    root = out / design
    code = root / CODE_DIR
    try:
        code.mkdir(parents=True, exist_ok=True)
        written = []
        for function in built.functions:
            path = code / f"{function.module}.py"
            path.write_text(handler_module(built, function), encoding="utf-8")
            written.append(path)
        path = code / "requirements.txt"
        path.write_text(requirements(), encoding="utf-8")
        written.append(path)
        (root / TEMPLATE).write_text(text, encoding="utf-8")
    except OSError as error:
        raise ExportError(f"cannot write the {design} export under {out}: {error}") from None
    return Written(design, root / TEMPLATE, tuple(written))
