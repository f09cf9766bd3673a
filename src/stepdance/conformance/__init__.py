"""Measuring the engine against the conformance corpus recorded on AWS (``shared/conformance``).

``normalise`` masks a raw history the way LocalStack masked the recorded one, ``compare`` diffs the two,
``runner`` executes a folder of cases on the in-memory driver and tallies the results.
"""
