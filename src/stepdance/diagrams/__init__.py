"""Diagrams drawn from what the system runs: each design's architecture, state machine and event flow
(:mod:`.designs`), one order's sequence and timeline (:mod:`.order`); Mermaid text and offline SVG
(:mod:`.svg`). See docs/diagrams.md."""
