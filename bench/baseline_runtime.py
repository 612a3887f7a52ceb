"""What any API function on this stack pays before its own code: the AWS SDK, Powertools' event
handler with validation, and pydantic's model machinery (which loads with the first model defined)."""

import boto3  # noqa: F401
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel


class _Probe(BaseModel):
    value: int


APIGatewayRestResolver(enable_validation=True)
