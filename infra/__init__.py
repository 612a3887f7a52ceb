"""The CDK app: one construct per capability, composed in stack.py."""

import os

# jsii prints a large end-of-life box on Node 20 unless told the major version is known.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
