"""CDK entry point: `python infra/app.py` (make synth) or `npx cdk synth` (cdk.json) writes the
CloudFormation template of one stage into cdk.out/.

Context: `stage` (default "dev"), `sender_email` (default of the SenderEmail parameter)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the `infra` package importable
    sys.path.insert(0, str(ROOT))

import infra  # noqa: E402,F401  (first: quiets jsii's Node version notice before aws_cdk loads)
import aws_cdk as cdk  # noqa: E402
from infra.nag import add_checks  # noqa: E402
from infra.stack import SelloStack  # noqa: E402


def build(app: cdk.App, env: cdk.Environment | None = None) -> SelloStack:
    """The stage's stack on `app`, with the AwsSolutions checks that make synthesis fail on findings."""
    stage = app.node.try_get_context("stage") or "dev"
    stack = SelloStack(app, f"sello-{stage}", stage=stage, env=env)
    add_checks(app)
    return stack


def main() -> None:
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out"))
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
                          region=os.environ.get("CDK_DEFAULT_REGION"))
    build(app, env)
    app.synth()


if __name__ == "__main__":
    main()
