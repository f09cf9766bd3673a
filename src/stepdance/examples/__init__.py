"""Small, self-contained examples that run on the engine (the demo's order saga)."""
