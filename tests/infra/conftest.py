"""One synthesis of the CDK app per test session, shared by the infra tests. Layer bundling is
skipped here (test_layer.py has the one real build). The AwsSolutions checks run as part of this
synthesis, so any unacknowledged cdk-nag finding fails every infra test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACCOUNT = "123456789012"
REGION = "us-east-1"
STAGE = "qa"
SENDER = "no-reply@example.com"
SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass
class Synth:
    stack: Any  # infra.stack.SelloStack
    template: Any  # aws_cdk.assertions.Template
    json: dict
    outdir: Path

    def resources(self, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == type_}


def synthesize(outdir: Path, *, bundle: bool = False):
    """Builds the app as infra/app.py does, for a fixed account/region, and synthesizes it."""
    from infra.app import build  # first: the infra package quiets jsii's Node notice

    import aws_cdk as cdk

    context = {"stage": STAGE, "sender_email": SENDER, **({} if bundle else SKIP_BUNDLING)}
    app = cdk.App(outdir=str(outdir), context=context)
    stack = build(app, cdk.Environment(account=ACCOUNT, region=REGION))
    assembly = app.synth()
    return stack, assembly.get_stack_artifact(stack.artifact_id).template


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Synth:
    from aws_cdk.assertions import Template

    outdir = tmp_path_factory.mktemp("cdk.out")
    stack, template = synthesize(outdir)
    return Synth(stack, Template.from_json(template), template, outdir)
