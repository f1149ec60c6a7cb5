"""The envstack policy rules, in one list: the registry that envctl and the pack read.

This module owns which rule groups make up the pack and their order (the order of
`envctl rules` and of docs/policies.md's rules table), and `evaluate`, which runs every rule on a
stack. The same rule functions run in two places:
- in Pulumi CrossGuard (`pulumi preview --policy-pack policies`): pack.py, through
  crossguard.from_policy_args;
- offline in `envctl check`: `from_plan` (plan_adapter.py) on the plan JSON of `envctl plan`.

Where the rest lives: the model, rule kinds and levels in model.py; the rules by service in
rules_s3, rules_kms, rules_rds, rules_cognito, rules_secrets, rules_isolation, rules_lifecycle
and rules_access. Standard library only: the policy pack's own virtualenv loads it.
"""

from __future__ import annotations

from policies import (
    rules_access,
    rules_cognito,
    rules_isolation,
    rules_kms,
    rules_lifecycle,
    rules_rds,
    rules_s3,
    rules_secrets,
)
from policies.model import (
    ADVISORY,
    INVARIANT,
    LIFECYCLE,
    MANDATORY,
    PROD,
    UNIVERSAL,
    UNKNOWN,
    Finding,
    Res,
    Rule,
    Stack,
    known,
)
from policies.plan_adapter import PlanVersionError, from_plan

__all__ = [
    "ADVISORY",
    "INVARIANT",
    "LIFECYCLE",
    "MANDATORY",
    "PROD",
    "RULES",
    "UNIVERSAL",
    "UNKNOWN",
    "Finding",
    "PlanVersionError",
    "Res",
    "Rule",
    "Stack",
    "evaluate",
    "from_plan",
    "known",
]

RULES: list[Rule] = [
    *rules_s3.RULES,
    *rules_kms.RULES,
    *rules_rds.RULES,
    *rules_cognito.RULES,
    *rules_secrets.RULES,
    *rules_isolation.RULES,
    *rules_lifecycle.RULES,
    *rules_access.RULES,
]


def evaluate(stack: Stack) -> list[Finding]:
    """Every rule on one stack, each violation at the rule's level for the stack's type."""
    return [finding for r in RULES for finding in r.run(stack)]
