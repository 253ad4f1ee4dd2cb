"""The necessity chart: median wait (y) against rejection rate (x), bubble area = items.

The threshold lines split it into four named quadrants; colour is the verdict; horizontal
bars show each rate's confidence interval, so a manager sees which verdicts are firm.
"""

from __future__ import annotations

import numpy as np

from officemine.base.plotting import chart_style
from officemine.base.text import say, word

VERDICT_COLOURS = {"keep": "#2b8a3e", "streamline": "#c92a2a", "notice": "#e67700",
                   "insufficient_data": "#868e96"}

def necessity_chart(result, ax=None, lang: str = "zh", label_nodes: bool = True):
    """Draw the chart for a `NecessityResult`; returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    words = (lambda key: say(f"necessity_chart.{key}", lang))
    s = result.summary
    with chart_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 6.2), layout="constrained")
        x = s["rejection_rate"].to_numpy(float)
        y = s["wait_median"].to_numpy(float)
        ok = ~np.isnan(x) & ~np.isnan(y)
        sizes = 40 + 1400 * s["items"].to_numpy(float) / max(float(s["items"].max()), 1.0)
        colours = s["verdict"].map(VERDICT_COLOURS).to_numpy()
        err = np.vstack([x - s["rejection_rate_ci_low"].to_numpy(float),
                         s["rejection_rate_ci_high"].to_numpy(float) - x])
        ax.errorbar(x[ok], y[ok], xerr=err[:, ok], fmt="none", ecolor="#adb5bd", lw=1, zorder=1)
        ax.scatter(x[ok], y[ok], s=sizes[ok], c=colours[ok], alpha=0.6, edgecolors="white",
                   linewidths=1, zorder=2)
        thr = result.thresholds.rejection_threshold
        long_wait = result.thresholds.long_wait(result.basis)
        ax.axvline(thr, color="#495057", lw=0.8, ls="--", zorder=0)
        ax.axhline(long_wait, color="#495057", lw=0.8, ls="--", zorder=0)
        xmax = max(float(np.nanmax(s["rejection_rate_ci_high"])) * 1.08, thr * 2.5)
        top = max(float(np.nanmax(y)) if ok.any() else 1.0, long_wait * 1.6)
        # free bands above and below the data hold the quadrant names
        ax.set_xlim(-0.005, xmax)
        ax.set_ylim(-0.09 * top, top * 1.13)
        box = dict(boxstyle="round,pad=0.25", fc="white", ec="none", alpha=0.85)
        corner = dict(fontsize=9, bbox=box, transform=ax.transAxes)
        ax.text(0.01, 0.985, words("q_streamline"), ha="left", va="top",
                color=VERDICT_COLOURS["streamline"], **corner)
        ax.text(0.99, 0.985, words("q_costly"), ha="right", va="top", color="#495057", **corner)
        ax.text(0.01, 0.012, words("q_cheap"), ha="left", va="bottom", color="#495057", **corner)
        ax.text(0.99, 0.012, words("q_gate"), ha="right", va="bottom", color="#495057", **corner)
        if label_nodes:
            labels = s["node"].astype(str)
            if result.by:
                labels = labels + "·" + s[result.by].astype(str)
            _place_labels(ax, x[ok], y[ok], labels[ok].tolist())
        ax.set_xlabel(words("x"))
        ax.set_ylabel(words(f"y_{result.basis}"))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        handles = [plt.Line2D([], [], marker="o", ls="", color=c, alpha=0.7, markersize=9,
                              label=word("verdict", v, lang))
                   for v, c in VERDICT_COLOURS.items() if (s["verdict"] == v).any()]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9,
                  frameon=False, title=words("size"), title_fontsize=8)
        ax.set_title(words("title"), fontsize=13, loc="left")
    return ax


def _place_labels(ax, x, y, labels, fontsize: float = 8.5) -> None:
    """Put each label beside its bubble, nudging labels apart vertically so none overlap."""
    fig = ax.figure
    fig.canvas.draw()
    to_px = ax.transData.transform
    from_px = ax.transData.inverted().transform
    pts = to_px(np.column_stack([x, y]))
    height = fontsize * fig.dpi / 72 * 1.35
    order = np.argsort(pts[:, 1])
    placed: list[tuple[float, float, float]] = []   # (x_px, y_px, width_px)
    for i in order:
        width = len(labels[i]) * fontsize * fig.dpi / 72 * 0.95
        px, py = pts[i, 0] + 9, pts[i, 1]
        for _ in range(60):
            clash = [p for p in placed if abs(p[1] - py) < height and
                     px < p[0] + p[2] and p[0] < px + width]
            if not clash:
                break
            py = max(p[1] for p in clash) + height
        placed.append((px, py, width))
        tx, ty = from_px((px, py))
        ax.annotate(labels[i], xy=(x[i], y[i]), xytext=(tx, ty), textcoords="data",
                    fontsize=fontsize, va="center", ha="left", color="#212529",
                    arrowprops=dict(arrowstyle="-", color="#ced4da", lw=0.6)
                    if abs(py - pts[i, 1]) > 2 else None)
