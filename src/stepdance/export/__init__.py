"""``stepdance export aws``: each design as an AWS SAM template, computed from what the design runs.

::

    plan("orchestrated")           # what the design deploys: functions, subscriptions, bus, definition
    template(plan("hybrid"))       # the SAM template, a dict (intrinsics in their long form)
    write("choreographed", out)    # out/choreographed/template.yaml and its functions/ directory

:mod:`.plan` reads the designs, :mod:`.sam` builds the template, :mod:`.sources` the handler modules;
:mod:`.write` is the only module that touches the disk. :mod:`.lambda_runtime` is what the functions run
in AWS. See ``docs/export-aws.md``.
"""

from stepdance.export.plan import DESIGNS, Plan, PlanError, plan
from stepdance.export.sam import template
from stepdance.export.write import ExportError, Written, template_yaml, write

__all__ = [
    "DESIGNS",
    "ExportError",
    "Plan",
    "PlanError",
    "Written",
    "plan",
    "template",
    "template_yaml",
    "write",
]
