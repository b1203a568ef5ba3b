"""Cells of notebook 01: composing two networks, counted exactly."""

CELLS = [
    ("md", r"""
# Composing two networks — counted exactly

This notebook follows the lecture *Deep neural networks* (after Prince,
*Understanding Deep Learning*, ch. 4): two shallow networks with three
hidden units each, composed; the "folding" picture; the combination into
one deep network; and the comparison with a shallow network of about the
same number of parameters. Every region count below is computed by the
exact engine of `regions`, not read off a picture.
"""),
    ("code", r"""
import numpy as np
import matplotlib.pyplot as plt
import regions
from regions import constructions, theory

pair = constructions.lecture_pair()
f, g, deep, shallow = pair["f"], pair["g"], pair["deep"], pair["shallow"]
dom = regions.interval(*pair["domain"])          # x in [0, 1]
print(f, g, deep, shallow, sep="\n")
"""),
    ("md", r"""
## Network 1 and network 2

Network 1 is $y = \phi_0 + \sum_i \phi_i\, a[\theta_{i0} + \theta_{i1} x]$ with three
hidden units. Its output zigzags: up, down, up — three linear regions on
$[0, 1]$, each mapped onto all of $[0, 1]$. Network 2 is the same kind of
network applied to $y$.
"""),
    ("code", r"""
def draw(part, ax, title):
    # each activation region in its own colour; its affine map drawn exactly on it
    cmap = plt.get_cmap("tab10")
    for i, (a, b) in enumerate(zip(part.breaks[:-1], part.breaks[1:])):
        t = np.array([a, b])
        ax.plot(t, part.slopes[i, 0] * t + part.intercepts[i, 0], color=cmap(i % 10), lw=2)
    for x in part.breaks[1:-1]:
        ax.axvline(x, color="0.85", lw=0.8, zorder=0)
    ax.set_title(f"{title}: {part.n_regions} regions")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, (net, title) in zip(axes, [(f, "network 1, y = f(x)"), (g, "network 2, y' = g(y)"), (deep, "composed, g(f(x))")]):
    draw(regions.partition_line(net, dom), ax, title)
plt.tight_layout()
"""),
    ("md", r"""
## The folding analogy

Network 1 folds the interval $[0, 1]$ onto itself three times. Network 2
then acts on the folded interval, so whatever it does on $[0, 1]$ — three
pieces — is repeated in each fold, mirrored where the fold is: $3 \times 3 = 9$
regions. The count is exact: the engine reports 9, and each region's
activation pattern is checked against a forward pass at an interior point.
"""),
    ("code", r"""
part = regions.partition_line(deep, dom)
print(part.verify())
print("breakpoints:", np.round(part.breaks, 4))
print("patterns (rows = regions, columns = the 6 hidden units):")
print(part.patterns.astype(int))
"""),
    ("md", r"""
## Combining the two networks into one

Network 2's first layer reads $y = \phi_0 + \boldsymbol\phi^T \mathbf h$, so its
pre-activations are affine in network 1's hidden units:
$\mathbf h' = a[\boldsymbol\psi_0 + \boldsymbol\Psi \mathbf h]$ with
$\boldsymbol\Psi = \boldsymbol\theta' \boldsymbol\phi^T$ and
$\boldsymbol\psi_0 = \boldsymbol\theta'_0 + \boldsymbol\theta' \phi_0$.
`regions.compose(f, g)` builds exactly this network.
"""),
    ("code", r"""
Psi, psi0 = deep.layers[1]
print("Psi =\n", Psi, "\npsi0 =", psi0, "\nrank of Psi:", np.linalg.matrix_rank(Psi))
x = np.linspace(0, 1, 1001)[:, None]
print("max |compose(f, g)(x) - g(f(x))| =", np.abs(deep(x) - g(f(x))).max())
print("parameters: f + g =", f.n_params + g.n_params, "; as one network:", deep.n_params)
"""),
    ("md", r"""
## Shallow versus deep

A shallow network with six hidden units has 19 parameters, one fewer than
the two composed networks (20). Its six breakpoints cut a line into at most
seven pieces — whatever the weights. The composed pair makes nine on
$[0, 1]$ (and more on all of $\mathbb R$). Below: the 1-6-1 network that
attains seven on $[0, 1]$, and the exact counts of 300 random 1-6-1
networks on all of $\mathbb R$: each has six distinct breakpoints, hence
exactly seven regions — never more.
"""),
    ("code", r"""
print("1-6-1 zigzag on [0, 1]:", regions.count(shallow, dom).regions, "regions;",
      "maximum for one input:", theory.one_dim_maximum([6]))
counts = [regions.count(regions.Network.from_arch("1-6-1", seed=s), regions.whole(1)).regions for s in range(300)]
print("random 1-6-1 on R, histogram of counts:", np.bincount(counts)[1:], "(counts 1..7)")
print("composed pair on R:", regions.count(deep, regions.whole(1)).regions, "regions")
"""),
    ("md", r"""
## Deeper: the sawtooth and the 471-parameter network

Repeating the fold $K$ times with $D \ge 3$ units per layer gives the
sawtooth of `regions.constructions.sawtooth`: exactly $(D+1)^K$ regions on
$\mathbb R$, the maximum for one input. With $D = 10$, $K = 5$ — 471
parameters — that is $11^5 = 161{,}051$ regions, counted here by
enumeration.
"""),
    ("code", r"""
import time
for K in range(1, 6):
    net = constructions.sawtooth(depth=K, width=10)
    t0 = time.perf_counter()
    n = regions.count(net, regions.whole(1)).regions
    print(f"K={K}: {net.n_params:4d} parameters, {n:7,d} regions (11^K = {11**K:7,d}) in {time.perf_counter()-t0:.3f} s")
"""),
    ("code", r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, K in zip(axes, [1, 2, 3]):
    draw(regions.partition_line(constructions.sawtooth(depth=K, width=3), regions.interval(0, 1)), ax, f"sawtooth D=3, K={K}")
plt.tight_layout()
"""),
]
