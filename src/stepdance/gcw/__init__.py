"""Google Cloud Workflows, the language: pure, no I/O."""
