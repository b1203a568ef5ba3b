"""Cells of notebook 04: regions during training on real data (needs the torch extra)."""

CELLS = [
    ("md", r"""
# Regions during training, on real data

How many linear regions does a trained MLP have in the plane through three
digits, and along the segment between two — and how does that change while
it learns? (Hanin & Rolnick 2019; Novak et al. 2018; Gamba et al. 2022.)
This notebook trains a small MLP on scikit-learn's bundled 8×8 digits
(offline, CPU, a few seconds), saves a checkpoint per epoch, and counts the
regions of each checkpoint exactly, verified.

It needs the `torch` extra (`pip install "torch==2.13.0" -e ".[torch,test]"`);
without it, the test suite skips this notebook.
"""),
    ("code", r"""
import tempfile
import numpy as np
import matplotlib.pyplot as plt
import regions
from regions import plotting
from regions.experiments import digits, workflows

plt.rcParams.update(plotting.STYLE)   # the figure style of the library and the CLI

run_dir = tempfile.mkdtemp(prefix="digits_")
run = digits.train_digits(run_dir, hidden=(32, 32), epochs=5, seed=0)
print(open(f"{run_dir}/history.csv").read())
"""),
    ("md", r"""
## The plane through three digits, and the segment between two

`pick_points` takes the first sample of each requested label. The plane's
coordinates are orthonormal in the 64-dimensional input space, so areas are
true areas; the extent is the triangle's bounding box enlarged by half its
size on every side.
"""),
    ("code", r"""
X, y = workflows.load_digits()
net = run.network()                                  # the trained model, imported exactly
plane = workflows.slice_through(net, workflows.pick_points(X, y, digits=(0, 1, 2)))
seg = workflows.slice_through(net, workflows.pick_points(X, y, digits=(3, 8)))
for name, res in [("plane 0-1-2", plane), ("segment 3-8", seg)]:
    r = res.record
    print(f"{name}: {r['regions']} regions, per layer {r['layer_counts']}, verified={r['verified']}")
"""),
    ("code", r"""
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
uv = np.array(plane.domain.info["points_uv"])
axes[0].set_title(f"plane through digits 0, 1, 2 of the trained {net.arch}:\n"
                  f"{plane.partition.n_regions} linear regions (exact)")
plotting.plot_partition(plane.partition, ax=axes[0])
axes[1].set_title("logit of class 0 (exact on each region), region edges")
colorbar = plotting.plot_output(plane.partition, ax=axes[1], output=0, colorbar=True)[-1]
colorbar.set_label("logit of class 0")
for ax, colour in zip(axes, ["k", "w"]):
    ax.plot(uv[:, 0], uv[:, 1], "*", color=colour, mec="k", ms=13, label="the three digit images")
    for (u, v), label in zip(uv, (0, 1, 2)):
        ax.annotate(f"digit {label}", (u, v), xytext=(6, 6), textcoords="offset points", color=colour,
                    fontsize=9, fontweight="bold")
axes[0].legend(loc="lower left")
plt.tight_layout();
"""),
    ("md", r"""
## The checkpoint series

The same plane, counted for every checkpoint in order: at initialisation,
then after each epoch. One row per checkpoint, with the per-layer counts,
the mean region area and the accuracies recorded during training.
"""),
    ("code", r"""
domain = workflows.data_domain(workflows.pick_points(X, y, digits=(0, 1, 2)))
rows = workflows.checkpoint_series(run_dir, domain, verify=True)
for r in rows:
    print(f"step {r['step']:4d}: {r['regions']:4d} regions, mean area {r['mean_measure']:.4f}, "
          f"test accuracy {r.get('test_acc', float('nan')):.3f}")
fig, ax = plt.subplots(figsize=(6.5, 4))
workflows.plot_series(rows, ax=ax, layers=True)
ax.set_xlabel("training step (optimizer steps)")
ax.set_ylabel("linear regions in the plane (exact count)")
ax.set_title("regions in the plane through digits 0, 1, 2 during training");
"""),
]
