"""Draw the README's picture: ``python docs/make_figures.py`` writes ``docs/partition.png``.

A He-normal 2-32-32-32-1 network (seed 3) on [-1, 1]^2, its output bias
shifted by the median output so that the decision boundary (output = 0)
crosses the square: its exact partition (one colour per region) with the
decision boundary, and its output as a heat map with the region edges.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import numpy as np  # noqa: E402

import regions  # noqa: E402
from regions import plotting  # noqa: E402
from regions.core.io import write_atomic  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> Path:
    net = regions.Network.from_arch("2-32-32-32-1", init="he", seed=3)
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 101), np.linspace(-1, 1, 101)), -1).reshape(-1, 2)
    W, b = net.layers[-1]
    net = regions.Network([*net.layers[:-1], (W, b - np.median(net(grid)))])
    part = regions.partition(net)
    part.verify()
    with plotting.figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [1, 1.2]})
        plotting.plot_partition(part, ax=axes[0])  # titles and axis labels from the library
        plotting.plot_decision_boundary(part, ax=axes[0], color="k", linewidth=2.0)
        axes[0].legend(loc="lower left")
        artists = plotting.plot_output(part, ax=axes[1], cmap="RdBu_r", colorbar=True)
        artists[-1].set_label("network output (exact, affine on each region)")
        plotting.plot_decision_boundary(part, ax=axes[1], color="k", linewidth=2.0)
        fig.tight_layout()
        out = HERE / "partition.png"
        write_atomic(out, lambda fh: fig.savefig(fh, format="png", dpi=100), binary=True)
        plt.close(fig)
    return out


if __name__ == "__main__":
    print("wrote", main())
