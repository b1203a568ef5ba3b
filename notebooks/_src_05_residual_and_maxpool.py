"""Cells of notebook 05: activation regions of residual, max-pool and maxout networks."""

CELLS = [
    ("md", r"""
# Residual, max-pool and maxout networks

Networks as researchers train them are not only chains of ReLU layers: they
add skip connections (`x + f(x)`), take maxima over pooling windows, and use
maxout units. `regions` counts their activation regions exactly, with the same
calls as for a plain network (`regions.partition`, `regions.count`). This
notebook states what is counted, draws it in 2-D, checks the counts against
values computed independently, and compares a plain MLP with the same widths
given a skip connection and with maxout units.
"""),
    ("md", r"""
## What an activation region is here

An **activation region** is a maximal set of inputs on which

* every ReLU-like unit keeps its side (pre-activation $> 0$ or $\le 0$), and
* every **max unit** $\max(c_1, \dots, c_k)$ (a pooling window, a maxout unit)
  keeps its *selected candidate*: the index $j$ with $c_j \ge c_i$ for all $i$.

Candidates that compute the same affine function on a region are one candidate
(the lowest index wins), so ties and duplicated pieces split nothing. A **skip
connection** (`Add`, `Concat`) has no units of its own: it changes what later
units see, hence where they bend, but adds no pattern bits. On a region every
value is affine in the input, so every split function is affine and every
region is convex.

In one dimension: the max of four affine candidates, two of them identical.
The regions are the intervals on which one candidate is on top; the duplicate
(dashed) never splits, and candidate 3 never reaches the top, so it selects
no region.
"""),
    ("code", r"""
import numpy as np
import matplotlib.pyplot as plt
import regions
from regions import plotting, theory
from regions.model.ops import Activation, Add, Affine, Graph, MaxGroups, Node, lower

plt.rcParams.update(plotting.STYLE)   # the figure style of the library and the CLI

slopes = np.array([[-1.5], [0.2], [0.2], [0.0]])      # candidates 1 and 2 are one affine function
offsets = np.array([-0.4, 0.1, 0.1, -2.0])
unit = Graph([Affine(slopes, offsets), MaxGroups([[0, 1, 2, 3]]), Affine([[1.0]])], 1)
part1 = regions.partition(unit, regions.interval(-1.0, 1.0))
print("regions of the max unit on [-1, 1]:", part1.n_regions, "(exact)")

x = np.linspace(-1, 1, 401)[:, None]
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for j, style in enumerate(["-", "-", "--", "-"]):
    ax.plot(x[:, 0], x[:, 0] * slopes[j, 0] + offsets[j], style, lw=1, label=f"candidate {j}")
ax.plot(x[:, 0], unit.forward(x)[:, 0], "k", lw=2.5, alpha=0.5, label="max (the unit's output)")
order = np.argsort(part1.points()[:, 0])                # the regions left to right
lengths = part1.measures[order]
for i, (s, m) in enumerate(zip(-1.0 + np.concatenate([[0.0], np.cumsum(lengths)[:-1]]), lengths)):
    ax.axvspan(s, s + m, color=f"C{i + 4}", alpha=0.15)
ax.set_xlabel("input $x$ on [-1, 1]")
ax.set_ylabel("candidate value $c_j(x)$")
ax.set_title(f"a max unit on [-1, 1]: {part1.n_regions} activation regions (exact count, shaded)")
ax.set_ylim(-2.3, 1.6)
ax.legend(fontsize=8, loc="lower right")
plt.tight_layout();
"""),
    ("md", r"""
## Four small networks on $[-1, 1]^2$

Three of them share their widths (three hidden layers of 8 units):

* **plain**: `2-relu8-relu8-relu8-1`;
* **skip**: the same weights, with the second layer turned into a residual
  block, $h_2 = h_1 + \mathrm{relu}(W_2 h_1 + b_2)$: the third layer now sees
  a different function of the input, so it bends in different places;
* **maxout**: three layers of 8 maxout units of rank 2 (each the max of two
  affine candidates);

and a fourth computes 3×3 feature maps of 2 channels (ReLU) and max-pools them
with 2×2 windows (stride 1), as a small CNN would.
"""),
    ("code", r"""
def random_layers(seed, d, widths, k=1):
    r = np.random.default_rng(seed)
    dims = [d, *widths]
    return [(r.normal(size=(k * n, m)) / np.sqrt(m), 0.5 * r.normal(size=k * n)) for m, n in zip(dims, dims[1:])]


WIDTHS = [8, 8, 8]
(W1, b1), (W2, b2), (W3, b3) = random_layers(0, 2, WIDTHS)
w_out = np.random.default_rng(1).normal(size=(1, 8))

plain = Graph([Affine(W1, b1), Activation.relu(), Affine(W2, b2), Activation.relu(),
               Affine(W3, b3), Activation.relu(), Affine(w_out)], 2)
skip = Graph([Affine(W1, b1), Activation.relu(),              # node 2: h1
              Affine(W2, b2), Activation.relu(),              # node 4: relu(W2 h1 + b2)
              Node(Add(), (2, 4)),                            # node 5: h2 = h1 + relu(W2 h1 + b2)
              Affine(W3, b3), Activation.relu(), Affine(w_out)], 2)
mo = []
for W, b in random_layers(2, 2, WIDTHS, k=2):
    mo += [Affine(W, b), MaxGroups.maxout(W.shape[0], 2)]
maxout = Graph([*mo, Affine(np.random.default_rng(3).normal(size=(1, 8)))], 2)

r = np.random.default_rng(4)
pool_op, pool_shape = MaxGroups.pool((2, 3, 3), 2, stride=1)    # (2, 3, 3) maps -> (2, 2, 2)
maxpool = Graph([Affine(r.normal(size=(18, 2)), r.normal(size=18)), Activation.relu(), pool_op,
                 Affine(r.normal(size=(1, int(np.prod(pool_shape)))))], 2)

NETS = {"plain": plain, "skip": skip, "maxout": maxout, "max-pool": maxpool}
square = regions.box(-1.0, 1.0, dim=2)
parts = {name: regions.partition(g, square, engine="lp") for name, g in NETS.items()}   # the LP walk
print("verify(): patterns unique, each witness reproduces its pattern, areas sum to the square's")
for name, p in parts.items():
    v = p.verify()                                  # raises VerificationError if any check fails
    mesh = regions.count(NETS[name], square)        # the default 2-D engine: the op-graph mesh
    print(f"{name:9s} {NETS[name].arch:27s} {p.n_regions:4d} regions {p.n_pieces:4d} pieces "
          f"by layer {str(p.layer_counts):13s} area err {v['measure_rel_error']:.0e} "
          f"(mesh: {mesh.regions})")
    if (mesh.regions, mesh.pieces) != (p.n_regions, p.n_pieces):
        raise RuntimeError(f"the mesh and the LP walk disagree on {name}")
"""),
    ("md", r"""
Two engines count op networks on bounded 2-D domains: the 2-D mesh for op
graphs (the default: regions cut polygon by polygon, as for plain ReLU nets)
and the LP walk used above (region by region, each side kept only when a
certified Chebyshev LP finds an interior); they agree on every network here.
Both results also give each region as half-planes (`hrep(i)`:
$A x \le b$); here we intersect them into polygons by hand and draw those
(`plotting.plot_partition` draws them directly, as in the CNN section).
"""),
    ("code", r"""
from matplotlib.collections import PolyCollection


def polygons(part):
    # each region A x <= b as a polygon: the square cut by one half-plane at a time
    out = []
    for i in range(part.n_regions):
        A, b = part.hrep(i)
        V = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
        for a, beta in zip(A, b):
            s = V @ a - beta                              # <= 0 inside
            nxt = np.roll(V, -1, axis=0)
            sn = np.roll(s, -1)
            keep = [v[None] for v, si in zip(V, s) if si <= 0]
            cut = (s < 0) != (sn < 0)                     # edges crossing the line
            t = s[cut] / (s[cut] - sn[cut])
            pts = V[cut] + t[:, None] * (nxt[cut] - V[cut])
            V = np.vstack([*keep, pts]) if keep or len(pts) else np.zeros((0, 2))
            if len(V):                                    # back into counter-clockwise order
                c = V.mean(axis=0)
                V = V[np.argsort(np.arctan2(V[:, 1] - c[1], V[:, 0] - c[0]))]
        out.append(V)
    return out


fig, axes = plt.subplots(2, 2, figsize=(10, 10))
for ax, (name, p) in zip(axes.flat, parts.items()):
    polys = polygons(p)
    colours = plt.cm.tab20(np.random.default_rng(0).permutation(len(polys)) % 20)
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="k", linewidths=0.4))
    ax.set_xlim(-1, 1); ax.set_ylim(-1, 1); ax.set_aspect("equal")
    ax.set_xlabel("input $x_1$ on [-1, 1]")
    ax.set_ylabel("input $x_2$ on [-1, 1]")
    ax.set_title(f"{name}: {NETS[name].arch}\n{p.n_regions} activation regions (exact count)")
plt.tight_layout();
"""),
    ("md", r"""
## A residual block, layer by layer

The regions after a layer are those of the network cut after it (the later
layers only subdivide them). Cutting the skip network after its first layer,
after the residual block and after its last layer gives the three panels; their
counts are the partition's `layer_counts`. Inside the block the new unit
boundaries are straight within each region of layer 1 and bend at its edges;
the addition `h1 + relu(...)` then changes the function the last layer sees,
which is why the plain and skip networks differ only from layer 3 on.
"""),
    ("code", r"""
cuts = {"after layer 1 (h1)": 2, "after the residual block (h1 + relu(W2 h1 + b2))": 5,
        "after layer 3 (the whole net)": 7}
fig, axes = plt.subplots(1, 3, figsize=(15, 5.2))
for ax, (what, n) in zip(axes, cuts.items()):
    nodes = list(skip.nodes[:n])
    head = Graph([*nodes, Node(Affine(np.zeros((1, skip.dims[n]))), (n,))], 2)   # the net cut after node n
    p = regions.partition(head, square)
    polys = polygons(p)
    colours = plt.cm.tab20(np.random.default_rng(0).permutation(len(polys)) % 20)
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="k", linewidths=0.4))
    ax.set_xlim(-1, 1); ax.set_ylim(-1, 1); ax.set_aspect("equal")
    ax.set_xlabel("input $x_1$ on [-1, 1]")
    ax.set_ylabel("input $x_2$ on [-1, 1]")
    ax.set_title(f"{what}:\n{p.n_regions} activation regions (exact count)", fontsize=10)
print("the skip net's layer_counts:", parts["skip"].layer_counts)
plt.tight_layout();
"""),
    ("md", r"""
## Independent checks

The counts above come from the LP walk (region by region, each side kept only
when a certified Chebyshev LP finds an interior). Two checks that do not use it:

* **dense grid** (a lower bound): evaluate the network at 301 × 301 grid
  points and count distinct activation patterns; every pattern seen is a
  region, so this can only undercount (thin regions fall between grid points);
* **1-D walk along a segment**: the exact 1-D walk (interval by interval, no
  LPs) along a segment across the square; since regions are convex, each
  region the segment crosses meets it in one interval, so the 1-D count must
  equal the number of 2-D regions whose half-planes leave a piece of the
  segment of positive length.
"""),
    ("code", r"""
xs = np.linspace(-1, 1, 301)
grid = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
x0, x1 = np.array([-1.0, -0.3]), np.array([1.0, 0.7])
seg = regions.segment(x0, x1)


def crossed(part, x0, x1, tol=1e-9):
    # regions of a 2-D partition that the segment x0 + t (x1 - x0), 0 <= t <= 1, crosses
    n = 0
    for i in range(part.n_regions):
        A, b = part.hrep(i)
        a, c = A @ (x1 - x0), b - A @ x0                 # a t <= c
        lo = max([0.0, *(c[a < 0] / a[a < 0])])
        hi = min([1.0, *(c[a > 0] / a[a > 0])])
        n += hi - lo > tol
    return n


print(f"{'network':9s} {'exact (LP walk)':>16s} {'grid lower bound':>17s} "
      f"{'1-D walk on segment':>20s} {'LP regions crossed':>19s}")
for name, g in NETS.items():
    p = parts[name]
    seen = np.unique(np.packbits(lower(g).patterns(grid), axis=1), axis=0).shape[0]
    n1 = regions.count(g, seg).regions                 # engine 'line'
    nx = crossed(p, x0, x1)
    if not (seen <= p.n_regions and n1 == nx):
        raise RuntimeError(f"{name}: the checks disagree ({seen}, {p.n_regions}, {n1}, {nx})")
    print(f"{name:9s} {p.n_regions:16d} {seen:17d} {n1:20d} {nx:19d}")
"""),
    ("md", r"""
## Plain vs skip vs maxout: counts beside bounds

The same three hidden widths, counted exactly on $[-1, 1]^2$. The bounds are
statements about the *maximum* over all weights of an architecture, not about
these weights:

* plain ReLU: Serra et al. (2018)'s upper bound (`theory.serra_upper_bound`);
* maxout of rank 2: Serra et al. (2018)'s maxout upper bound and Montúfar et
  al. (2014)'s maxout lower bound (some weights attain at least that many
  regions) from `theory.maxout_bounds`;
* the residual net: no bound in `regions.theory` applies (n/a).
"""),
    ("code", r"""
mb = theory.maxout_bounds(2, WIDTHS, 2)
rows = [("plain (ReLU)", plain, "—", theory.serra_upper_bound(2, WIDTHS)),
        ("skip (ReLU + Add)", skip, "n/a", "n/a"),
        ("maxout, rank 2", maxout, mb["maxout_montufar2014_lower"], mb["maxout_serra_upper"])]
print(f"{'network':18s} {'arch':30s} {'params':>6s} {'regions':>8s} {'pieces':>7s} "
      f"{'lower bound':>12s} {'upper bound':>12s}")
for name, g, lo, hi in rows:
    res = regions.count(g, square)
    fmt = lambda v: v if isinstance(v, str) else f"{v:,}"
    print(f"{name:18s} {g.arch:30s} {g.n_params:6d} {res.regions:8d} {res.pieces:7d} "
          f"{fmt(lo):>12s} {fmt(hi):>12s}")
print("regions and pieces: exact counts on [-1, 1]^2; bounds: over all weights of the architecture")
"""),
    ("md", r"""
## A CNN with max pooling on three digits

The same walk takes a convolutional network trained on real data. We train a
small CNN on scikit-learn's bundled 8×8 digits (offline, seeded, three epochs:
`digits.train_digits(..., conv_channels=1)`, the library behind
`regions train-digits --conv-channels 1`): the 64 pixels → `Conv2d(1, 1, 3×3,
padding 1)` → ReLU (64 units) → `MaxPool2d(2)` (16 max units of 4 candidates)
→ 10 outputs. Its checkpoints are `torch.export` programs; `run.network()` is
the trained module as an op graph.

The domain is the triangle spanned by the first 0, 1 and 2 of the data set,
in the plane through them (coordinates $u, v$ in pixel units). The count is
exact; the panels show the regions after the ReLU and after the pooling,
each region of the first panel split by the pooling's ties (white lines).
"""),
    ("code", r"""
import tempfile
from regions.experiments import digits, workflows

run = digits.train_digits(tempfile.mkdtemp(), conv_channels=1, hidden=(), epochs=3, seed=0)
cnn = run.network()
X, y = workflows.load_digits()
tri = workflows.data_domain(workflows.pick_points(X, y, digits="0,1,2"), triangle=True)
cnn_part = regions.partition(cnn, tri)            # the 2-D mesh for op graphs (the default in 2-D)
checks = cnn_part.verify()                        # witnesses reproduce patterns, areas sum to the triangle's
print(f"{cnn.arch}: test accuracy {run.history[-1]['test_acc']:.3f} after three epochs")
print(f"regions on the triangle: {cnn_part.n_regions} (exact), after the ReLU: {cnn_part.layer_counts[0]}, "
      f"affine pieces: {cnn_part.n_pieces}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
plotting.plot_layers(cnn, tri, axes, partition=cnn_part)
uv = np.array(tri.info["points_uv"])
for ax in axes:
    ax.plot(uv[:, 0], uv[:, 1], "ko", ms=4)
    for (a, b), d in zip(uv, "012"):
        ax.annotate(f"digit {d}", (a, b), textcoords="offset points", xytext=(4, 4), fontsize=8)
plt.show()
"""),
    ("md", r"""
Checked against values computed apart from the mesh: the distinct patterns
at the points of a dense grid inside the triangle (a lower bound: every one
must be a region's pattern), and the exact 1-D walk along the median from the
0 towards the middle of the 1 and the 2 (97% of the way: the median's end
itself lies on a region border, where the exact 1-D walk sees a sliver of
length 2e-16 that no polygon check can), whose count must equal the number
of region polygons that the segment crosses (regions are convex).
"""),
    ("code", r"""
from shapely.geometry import LineString, Polygon

rng = np.random.default_rng(0)
P = np.array(tri.vertices)
w = rng.dirichlet(np.ones(3), size=60_000)                 # uniform points of the triangle
grid_pats = lower(cnn).patterns(tri.to_input(w @ P))
seen = {p.tobytes() for p in np.packbits(grid_pats, axis=1)}
mine = {p.tobytes() for p in np.packbits(cnn_part.patterns, axis=1)}
a = uv[0]
b = a + 0.97 * ((uv[1] + uv[2]) / 2 - a)    # 97% of the median: its exact end lies on a region border
median = regions.segment(*tri.to_input(np.array([a, b])))
n_line = regions.count(cnn, median).regions                # the 1-D op walk
crossed = sum(Polygon(Q).intersection(LineString([a, b])).length > 1e-9 for Q in cnn_part.polygons())
if not (seen <= mine and n_line == crossed):
    raise RuntimeError("the checks disagree")
print(f"exact count {cnn_part.n_regions}; patterns met by 60,000 points: {len(seen)} (a lower bound)")
print(f"median from the 0: 1-D walk {n_line} regions, polygons crossed {crossed}")
"""),
]
