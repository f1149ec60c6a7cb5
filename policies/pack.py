"""The CrossGuard policies: each rule of rules.py (the registry) registered twice, once mandatory and once
advisory (`<rule>-advisory`); at run time each reports only at the level that the stack's
environment type gives the rule, so one pack serves dev, custom, staging and prod."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Policy, ReportViolation, StackValidationArgs, StackValidationPolicy

from policies.crossguard import from_policy_args
from policies.model import ADVISORY, MANDATORY, Rule
from policies.rules import RULES

PACK_NAME = "envstack"


def _validator(rule: Rule, level: str) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = from_policy_args(args)
        if rule.level(stack.env_type) != level:
            return
        for violation in rule.run(stack):
            report_violation(f"{violation.resource}: {violation.message}", violation.urn or None)

    return validate


def policies() -> list[Policy]:
    built: list[Policy] = []
    for rule in RULES:
        for level, enforcement, suffix in (
            (MANDATORY, EnforcementLevel.MANDATORY, ""),
            (ADVISORY, EnforcementLevel.ADVISORY, "-advisory"),
        ):
            built.append(
                StackValidationPolicy(
                    name=rule.name + suffix,
                    description=f"{rule.description} [{rule.ids}] ({level} for this environment type)",
                    validate=_validator(rule, level),
                    enforcement_level=enforcement,
                )
            )
    return built
