"""Cells of notebook 03: 2-D partitions layer by layer, folding in 2-D, depth efficiency."""

CELLS = [
    ("md", r"""
# Partitions in 2-D, layer by layer

With two inputs the partition can be drawn. This notebook shows how each
layer's (bent) lines subdivide the regions left by the layers before
("composing networks in 2D"), the folding constructions that attain the
deep lower bound, and the depth-efficiency argument: how many shallow units
a deep network's regions would cost.
"""),
    ("code", r"""
import numpy as np
import matplotlib.pyplot as plt
import regions
from regions import constructions, plotting, theory

plt.rcParams.update(plotting.STYLE)   # the figure style of the library and the CLI
"""),
    ("md", r"""
## A random 2-16-16-16-1 network, one layer at a time

Panel $l$ shows the regions after the first $l$ hidden layers: every region
of layer $l-1$ keeps its hue and the new layer's lines (white) cut it into
shades. The first layer's lines are straight; later layers' lines bend where
they cross earlier ones, because each is straight only inside one region.
"""),
    ("code", r"""
net = regions.Network.from_arch("2-16-16-16-1", seed=3)
part = regions.partition(net)                       # exact, default box [-1, 1]^2
print(part.verify())
print("regions after each layer:", part.layer_counts, "; affine pieces:", part.n_pieces)
plotting.plot_layers(net);
"""),
    ("code", r"""
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
plotting.plot_output(part, ax=axes[0], colorbar=True)
plotting.plot_decision_boundary(part, ax=axes[0], color="r")
axes[0].legend(loc="lower left")
plotting.plot_partition(part, ax=axes[1], color="piece")
plt.tight_layout();
"""),
    ("md", r"""
## Folding in 2-D

The deep lower bound of Serra et al. (2018),
$\prod_{l<L} (\lfloor n_l/d \rfloor + 1)^d \sum_{j \le d} \binom{n_L}{j}$,
is attained by folding each input coordinate with a zigzag and ending with a
layer in general position. `regions.constructions.folding` builds that
network; the 2-D engine counts it.
"""),
    ("code", r"""
for widths in ([6, 4], [6, 6, 4], [8, 8, 5]):
    net = constructions.folding(2, widths)
    n = regions.count(net, regions.box(0.0, 1.0, dim=2)).regions
    print(f"widths {widths}: {net.n_params} parameters, counted {n:,}, "
          f"lower bound {theory.serra_lower_bound(2, widths):,}")
fold = constructions.folding(2, [6, 6, 4])
plotting.plot_layers(fold, regions.box(0.0, 1.0, dim=2));
"""),
    ("md", r"""
## Depth efficiency

A one-input network with one hidden layer of $N$ units has at most $N + 1$
regions. The depth-$K$ sawtooth with $D$ units per layer has
$(D+1)^K$ regions, each with its own slope (its affine pieces are its
regions), so a shallow network computing the same function needs at least
$(D+1)^K - 1$ hidden units.
"""),
    ("code", r"""
print(" K   deep params   regions = pieces   shallow units needed   shallow params")
for K in range(1, 6):
    net = constructions.sawtooth(depth=K, width=10)
    res = regions.count(net, regions.whole(1))
    units = res.pieces - 1
    print(f"{K:2d}   {net.n_params:11,d}   {res.regions:9,d} = {res.pieces:<9,d} {units:15,d}   {3 * units + 1:14,d}")
"""),
]
