"""cdk-nag's AwsSolutions pack: the app synthesizes with no open finding, every acknowledgment
sits on the construct it concerns with a specific reason, and the checks really run."""

from __future__ import annotations

import json

import pytest

from tests.infra.conftest import ACCOUNT, REGION, SKIP_BUNDLING

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


ACKNOWLEDGED = "aws:cdk:acknowledged-rules"  # aws_cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY


def acknowledgments(root) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgment under `root`, `root` included."""
    found = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED:
                found += [(construct.node.path, rule, reason) for rule, reason in entry.data.items()]
    return found


def test_synthesis_leaves_no_finding(synth):
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    assert violations == []


def test_every_acknowledgment_is_local_specific_and_explained(synth):
    acks = acknowledgments(synth.stack)
    assert acks, "the stack has known, acknowledged findings (e.g. python3.13 is not the newest runtime)"
    for path, rule, reason in acks:
        assert path != synth.stack.node.path, f"{rule} is acknowledged for the whole stack"
        assert rule.removeprefix("Annotation::").startswith("AwsSolutions-"), rule
        assert len(reason) >= 60, f"{path} {rule}: reason too thin: {reason!r}"
    app = synth.stack.node.scope
    assert not [e for e in app.node.metadata if e.type == ACKNOWLEDGED], "acknowledged for the whole app"
    # Wildcard acknowledgments name the exact finding, never the whole IAM5 rule.
    assert not [a for a in acks if a[1].removeprefix("Annotation::") == "AwsSolutions-IAM5"]


def test_checks_fail_synthesis_on_a_new_finding(tmp_path):
    from infra.app import build

    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(tmp_path), context=SKIP_BUNDLING)
    stack = build(app, cdk.Environment(account=ACCOUNT, region=REGION))
    sqs.Queue(stack, "PlainQueue")  # no TLS-only policy, no DLQ
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    failed = {v["ruleName"]: [r["constructPath"] for r in v["violatingConstructs"]]
              for plugin in report["pluginReports"] for v in plugin["violations"]}
    assert failed["AwsSolutions-SQS4"] == [f"{stack.node.path}/PlainQueue/Resource"]
    assert all(paths == [f"{stack.node.path}/PlainQueue/Resource"] for paths in failed.values()), failed
