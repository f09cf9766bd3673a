"""The one base class of the errors the AWS-shaped clients raise (Step Functions and EventBridge).

The error code is the class name, as in AWS's ``__type``; ``response`` is shaped like botocore's
``ClientError.response`` so code written against boto3 (``error.response["Error"]["Code"]``) reads it unchanged,
and the HTTP layer can turn any of them into an AWS-style 400 in one place.
"""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__

    @property
    def response(self) -> dict[str, Any]:
        return {"Error": {"Code": self.code, "Message": self.message}, "message": self.message}
