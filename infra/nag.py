"""cdk-nag (v3) wiring: the AwsSolutions pack as a validation plugin, and acknowledgments that
always carry their reason next to the resource they concern."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: App) -> None:
    """Synthesis fails while any AwsSolutions finding is neither fixed nor acknowledged."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
