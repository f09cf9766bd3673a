"""The HTTP face of stepdance: AWS's JSON protocol for Step Functions and EventBridge (``stepdance serve``)."""
