"""The report's plots as SVG text (matplotlib, no display, glyphs drawn as paths so the SVG needs no
font): throughput per design, and the latency distribution of each design's orders. Pure but for
matplotlib's rendering."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "path"
from matplotlib import pyplot  # noqa: E402 - after the backend is chosen

COLOURS = {
    "orchestrated": "#6c8ebf",
    "choreographed": "#b07fc7",
    "hybrid": "#e0a458",
    "workflows": "#5fa777",
}


def throughput(rates: Mapping[str, float]) -> str:
    """Orders per second, a bar per design."""
    figure, axes = pyplot.subplots(figsize=(6, 3))
    names = list(rates)
    bars = axes.bar(names, [rates[n] for n in names], color=[COLOURS.get(n, "#999") for n in names])
    axes.bar_label(bars, fmt="%.0f")
    axes.set_ylabel("orders / s")
    axes.set_title("throughput, same workload")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def latency(latencies: Mapping[str, Sequence[float]]) -> str:
    """Each design's order latencies (placed -> decided) as a cumulative distribution, in ms."""
    figure, axes = pyplot.subplots(figsize=(6, 3))
    for name, values in latencies.items():
        ordered = sorted(v * 1000 for v in values)
        if not ordered:
            continue
        shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
        axes.step(ordered, shares, where="post", label=name, color=COLOURS.get(name, "#999"))
    axes.set_xlabel("latency, placed to decided (ms)")
    axes.set_ylabel("share of orders")
    axes.set_title("latency distribution")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def recovery(seconds: Mapping[str, Mapping[str, float]]) -> str:
    """Time to recover per scenario (rows) and design (bars)."""
    scenarios = sorted({s for per in seconds.values() for s in per})
    figure, axes = pyplot.subplots(figsize=(7, 0.35 * max(len(scenarios), 3) + 1))
    height = 0.8 / max(len(seconds), 1)
    for index, (design, per) in enumerate(seconds.items()):
        ys = [i + index * height for i in range(len(scenarios))]
        axes.barh(ys, [per.get(s, 0.0) for s in scenarios], height, label=design, color=COLOURS.get(design))
    axes.set_yticks([i + 0.4 - height / 2 for i in range(len(scenarios))], scenarios, fontsize=8)
    axes.set_xlabel("time to recover (s)")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _svg(figure: object) -> str:
    out = io.StringIO()
    figure.tight_layout()  # type: ignore[attr-defined]
    figure.savefig(out, format="svg")  # type: ignore[attr-defined]
    pyplot.close(figure)  # type: ignore[arg-type]
    text = out.getvalue()
    return text[text.index("<svg") :]  # no XML declaration or doctype: it is inlined in HTML
