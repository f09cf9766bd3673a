"""stepdance: orchestration versus choreography, measured.

The durable ASL engine lives in :mod:`stepdance.engine`, the pure language in :mod:`stepdance.asl`.
"""

__version__ = "0.1.0"
