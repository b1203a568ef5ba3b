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
def draw(part, ax, title, *, window=None, ylim=None):
    # each activation region in its own colour; its affine map drawn exactly on it
    # window=(lo, hi): show only that part of the domain (the count is still of the whole domain)
    # ylim=(lo, hi): clip the output axis there (said in the axis label)
    lo, hi = window if window is not None else (part.breaks[0], part.breaks[-1])
    cmap = plt.get_cmap("tab10")
    for i, (a, b) in enumerate(zip(part.breaks[:-1], part.breaks[1:])):
        a, b = max(a, lo), min(b, hi)
        if a < b:
            t = np.array([a, b])
            ax.plot(t, part.slopes[i, 0] * t + part.intercepts[i, 0], color=cmap(i % 10), lw=1.5)
    for x in part.breaks[1:-1]:
        if lo <= x <= hi:
            ax.axvline(x, color="0.85", lw=0.6, zorder=0)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("input x" if window is None else f"input x (window [{lo:.3f}, {hi:.3f}])")
    ax.set_ylabel("network output" if ylim is None else f"network output (clipped to [{ylim[0]:g}, {ylim[1]:g}])")
    if ylim is not None:
        ax.set_ylim(*ylim)
    d0, d1 = part.breaks[0], part.breaks[-1]
    ax.set_title(f"{title}:\n{part.n_regions} regions on [{d0:g}, {d1:g}] (exact)")

plt.rcParams.update(regions.plot.STYLE)            # the figure style of the library and the CLI
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
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
seven pieces — whatever the weights: that is a theorem, not a tendency.
The composed pair makes nine on $[0, 1]$ (and ten on all of $\mathbb R$).

Below, exact counts on all of $\mathbb R$ for 300 random networks of each
kind (He-normal weights and biases): every random 1-6-1 network has exactly
seven regions (six distinct breakpoints, never more), while random
compositions of two 1-3-1 networks — one parameter more — often exceed
seven, up to the depth-2 maximum $(3+1)^2 = 16$ of a 1-3-3-1 network.
"""),
    ("code", r"""
print("1-6-1 zigzag on [0, 1]:", regions.count(shallow, dom).regions, "regions;",
      "maximum for one input:", theory.one_dim_maximum([6]))
print("composed pair: on [0, 1]", regions.count(deep, dom).regions, "regions, on R",
      regions.count(deep, regions.whole(1)).regions)
R = regions.whole(1)
shallow_counts = [regions.count(regions.Network.from_arch("1-6-1", seed=s), R).regions for s in range(300)]
deep_counts = [regions.count(regions.compose(regions.Network.from_arch("1-3-1", seed=2 * s + 1),
                                             regions.Network.from_arch("1-3-1", seed=2 * s + 2)), R).regions
               for s in range(300)]
print("random 1-6-1 on R: counts", sorted(set(shallow_counts)), "- above 7:", sum(c > 7 for c in shallow_counts))
print("random 1-3-1 o 1-3-1 on R: above 7:", sum(c > 7 for c in deep_counts), "of 300; largest", max(deep_counts))

fig, ax = plt.subplots(figsize=(8, 3.8))
k = np.arange(1, 17)
ax.bar(k - 0.2, np.bincount(shallow_counts, minlength=17)[1:], width=0.4, color="C0",
       label="random 1-6-1 (19 parameters)")
ax.bar(k + 0.2, np.bincount(deep_counts, minlength=17)[1:], width=0.4, color="C1",
       label="random 1-3-1 ∘ 1-3-1 (20 parameters)")
ax.axvline(7.5, color="C0", ls="--", lw=1.2, label="bound for any 1-6-1: 7 regions")
ax.axvline(16.5, color="C1", ls=":", lw=1.2, label="bound for any 1-3-3-1: (3+1)² = 16")
n_pair = regions.count(deep, R).regions
ax.plot([n_pair + 0.2], [5], "k*", ms=11, label=f"the lecture's composed pair: {n_pair} (counted)")
ax.set_xticks(k)
ax.set_xlabel("linear regions on ℝ (exact count)")
ax.set_ylabel("networks (of 300)")
ax.set_title("Exact region counts on ℝ of 300 random networks of each kind")
ax.legend(loc="upper right")
plt.tight_layout()
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
for K in range(1, 6):
    net = constructions.sawtooth(depth=K, width=10)
    n = regions.count(net, regions.whole(1)).regions
    print(f"K={K}: {net.n_params:4d} parameters, {n:7,d} regions (11^K = {11**K:7,d})")
"""),
    ("code", r"""
# Each layer zigzags between -1/4 and 5/4 and is steep outside; composed, a few pieces overshoot
# (on [0, 1] the two outer pieces reach ~335 at K = 3) and would flatten the teeth. So: the window
# between the first and the last breakpoint, where all the teeth are, and the output axis clipped
# to the zigzag's range; every one of the (D+1)^K regions is a coloured segment.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
for ax, K in zip(axes, [1, 2, 3]):
    part = regions.partition_line(constructions.sawtooth(depth=K, width=3), regions.interval(0, 1))
    pad = 0.02 * (part.breaks[-2] - part.breaks[1])
    draw(part, ax, f"sawtooth D=3, K={K}", window=(part.breaks[1] - pad, part.breaks[-2] + pad),
         ylim=(-0.5, 1.5))
plt.tight_layout()
"""),
]
