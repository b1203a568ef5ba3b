"""CNNs with MaxPool2d: exact counts on planes, the digits CNN workflow, dynamic-batch programs, interior witnesses.

Independent values:

* a tiny CNN (Conv2d -> ReLU -> MaxPool2d -> Linear) on a plane through three
  points: the op LP walk against the brute-force LP count of
  ``tests/op_reference.py`` (written apart from the engines and the lowering,
  run on the plane as a 2-input graph), against the distinct patterns of a
  dense grid (a lower bound, every grid pattern among the partition's), against
  the 1-D op walk along segments in the plane (its count equals the number of
  region polygons the segment crosses, its patterns are among the plane's),
  and region areas (shoelace of the polygons) summing to the plane's area;
* witnesses: a forward pass over the graph's own nodes (written here, not the
  lowering) at each witness gives the region's pattern, with every
  pre-activation and every max unit's gap to its runner-up nonzero (but where
  every candidate is an inactive ReLU, exactly 0: one function, no split);
* ``regions train-digits --conv-channels`` checkpoints: ``regions checkpoints``
  along a segment against the LP walk on it and a 20,001-point sampling bound,
  and on a small plane against the grid bound; programs read back against the
  trained model's forward pass for batches of 1 and 5.
"""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions.cli.main import main
from regions.model.ops import Activation, Add, Affine, Clamp, Concat, Graph, MaxGroups, compose_graphs, lower

torch = pytest.importorskip("torch")
from op_reference import count_exact_lp  # noqa: E402


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


class _Tiny(torch.nn.Module):
    """1x4x4 image -> Conv2d(1, 1, 3, padding 1) -> ReLU -> MaxPool2d(2) -> Linear(4, 2)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.out = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.out(self.pool(torch.relu(self.conv(x.reshape(-1, 1, 4, 4)))).flatten(1))


def _tiny(seed: int, zero_bias: bool):
    torch.manual_seed(seed)
    m = _Tiny().double()
    if zero_bias:
        with torch.no_grad():
            m.conv.bias.zero_()
    g = regions.from_torch(m, input_shape=(16,))
    pts = np.random.default_rng(seed).normal(size=(3, 16)) * 0.3
    if zero_bias:
        pts[0] = 0.0  # the plane passes through the origin, where every conv unit is zero
    return g, regions.plane_through(*pts, margin=0.2)


def _area(V):
    x, y = V[:, 0], V[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _forward_gaps(graph: Graph, X: np.ndarray):
    """Patterns, and the smallest |pre-activation| and max-unit gap of each point (the graph's own nodes)."""
    vals = [np.atleast_2d(X)]
    bits, small = [], np.full(vals[0].shape[0], np.inf)
    for node in graph.nodes:
        op, ins = node.op, [vals[j] for j in node.inputs]
        v = ins[0]
        if isinstance(op, Affine):
            out = v @ op.W.T + op.b
        elif isinstance(op, Add):
            out = sum(ins)
        elif isinstance(op, Concat):
            out = np.hstack(ins)
        elif isinstance(op, Activation):
            neg, pos = op.slopes(v.shape[1])
            bend = neg != pos
            bits.append(v[:, bend] > 0)
            small = np.minimum(small, np.abs(v[:, bend]).min(axis=1, initial=np.inf))
            out = np.where(v > 0, pos * v, neg * v)
        elif isinstance(op, MaxGroups):
            out = np.stack([v[:, g].max(axis=1) for g in op.groups], axis=1)
            for g in op.groups:
                if len(g) < 2:
                    continue
                c = v[:, g]
                top = c.argmax(axis=1)
                bits.append(np.arange(len(g))[None, :] == top[:, None])
                srt = np.sort(c, axis=1)
                # candidates all exactly 0 are one function there (ReLUs all off): a tie that splits nothing
                gap = np.where(srt[:, -1] == 0.0, np.inf, srt[:, -1] - srt[:, -2])
                small = np.minimum(small, gap)
        else:  # pragma: no cover -- not in these nets
            raise TypeError(type(op).__name__)
        vals.append(out)
    assert not any(isinstance(n.op, Clamp) for n in graph.nodes)
    return np.hstack(bits), small


@pytest.mark.parametrize("seed, zero_bias", [(4, False), (11, True)])
def test_tiny_cnn_on_a_plane_is_exact(seed, zero_bias):
    g, dom = _tiny(seed, zero_bias)
    part = regions.partition(g, dom)
    part.verify()
    n = part.n_regions
    # brute force over patterns on the plane as a 2-input graph on [0, 1]^2
    lo, hi = dom.lo, dom.hi
    pre = Graph([Affine(dom.basis @ np.diag(hi - lo), dom.origin + dom.basis @ lo)], 2)
    assert count_exact_lp(compose_graphs(pre, g), 0.0, 1.0) == n
    # region polygons: areas sum to the plane's, one polygon per region
    polys = part.polygons()
    areas = np.array([_area(V) for V in polys])
    assert len(polys) == n and areas.min() > 0
    assert abs(areas.sum() - dom.measure) <= 1e-9 * dom.measure
    # a dense grid: every pattern it meets is a region's, and it meets at most n
    u = np.linspace(lo[0], hi[0], 301)
    v = np.linspace(lo[1], hi[1], 301)
    U, V = np.meshgrid(u, v)
    grid = lower(g).patterns(dom.to_input(np.column_stack([U.ravel(), V.ravel()])))
    seen = {p.tobytes() for p in np.packbits(grid, axis=1)}
    mine = {p.tobytes() for p in np.packbits(part.patterns, axis=1)}
    assert seen <= mine and 1 <= len(seen) <= n
    # the 1-D op walk along segments of the plane: one interval per region polygon crossed
    from shapely.geometry import LineString, Polygon

    shapes = [Polygon(P) for P in polys]
    for a, b in [((lo[0], lo[1]), (hi[0], hi[1])), ((lo[0], hi[1]), (hi[0], lo[1])),
                 ((lo[0], 0.3 * lo[1] + 0.7 * hi[1]), (hi[0], 0.6 * lo[1] + 0.4 * hi[1]))]:
        seg = regions.segment(dom.to_input(np.array([a]))[0], dom.to_input(np.array([b]))[0])
        line = regions.partition(g, seg)
        crossed = sum(s.intersection(LineString([a, b])).length > 1e-9 * dom.scale for s in shapes)
        assert line.n_regions == crossed
        assert {p.tobytes() for p in np.packbits(line.patterns, axis=1)} <= mine


@pytest.mark.parametrize("seed, zero_bias", [(4, False), (5, True), (3, False)])
def test_lp_op_witnesses_are_interior(seed, zero_bias):
    g, dom = _tiny(seed, zero_bias)
    part = regions.partition(g, dom, engine="lp")
    w = part.witnesses
    assert np.all(part.radii > 0)
    assert np.all(w > dom.lo) and np.all(w < dom.hi)  # off the box faces
    # every witness's ball lies inside the box
    assert np.all(np.minimum(w - dom.lo, dom.hi - w).min(axis=1) >= part.radii)
    pats, small = _forward_gaps(g, dom.to_input(w))
    assert np.array_equal(pats, part.patterns)
    assert np.all(small > 0)  # no pre-activation zero, no pool tie (with zero biases: not at the origin)


def test_lp_op_witnesses_on_a_box_face_move_inside():
    """A net whose regions touch the box faces: one unit ReLU(x1) with max-pool over (x1, x2) on [0, 1]^2."""
    g = Graph([Affine(np.eye(2), [0.0, 0.0]), Activation.relu(), MaxGroups([[0, 1]]), Affine([[1.0]])], 2)
    part = regions.partition(g, regions.box(0.0, 1.0, dim=2), engine="lp")
    assert part.n_regions == 2  # x1 > x2 and x1 <= x2; the ReLU keeps one side on the box
    w = part.witnesses
    assert np.all((w > 0) & (w < 1)) and np.all(part.radii > 0)
    pats, small = _forward_gaps(g, w)
    assert np.array_equal(pats, part.patterns) and np.all(small > 0)


@pytest.mark.parametrize("maker", ["cnn", "residual"])
def test_programs_take_any_batch(tmp_path, maker):
    from regions.experiments import digits, workflows
    from regions.interop.fx import load_program

    torch.manual_seed(0)
    model = (digits.make_cnn(2, (5,)) if maker == "cnn" else digits.make_residual_mlp(6, 1)).eval()
    X, _ = workflows.load_digits()
    path = tmp_path / "m.pt2"
    torch.export.save(digits.export_program(model, torch.from_numpy(X[:2]).float()), str(path))
    prog = torch.export.load(str(path)).module()
    for b in (1, 5):
        x = torch.from_numpy(X[10:10 + b]).float()
        with torch.no_grad():
            assert prog(x).shape == (b, 10)
            assert torch.allclose(prog(x), model(x), atol=1e-6)
    g = load_program(str(path))
    assert g.input_dim == 64
    with torch.no_grad():
        ref = model(torch.from_numpy(X[:5]).float()).double().numpy()
    assert np.abs(g.forward(X[:5]) - ref).max() < 1e-4  # the model runs in float32


def _points_file(tmp_path, labels=(0, 1, 2), shrink=0.03):
    from regions.experiments import workflows

    X, y = workflows.load_digits()
    pts = workflows.pick_points(X, y, digits=",".join(map(str, labels)))
    mid = pts.mean(axis=0)
    path = tmp_path / "pts.npy"
    np.save(path, mid + shrink * (pts - mid))  # a small triangle around their mean: few regions
    return path


def test_cnn_run_and_its_checkpoint_series(tmp_path):
    from regions.experiments import workflows
    from regions.interop.fx import load_program

    run = tmp_path / "cnn"
    res = _cli("train-digits", "--out-dir", run, "--conv-channels", 1, "--epochs", 1, "--max-steps", 2,
               "--seed", 1)
    assert res.exit_code == 0, res.output
    assert "conv3x3x1-maxpool2x2" in res.output
    names = sorted(p.name for p in run.glob("step_*"))
    assert names == ["step_000000.pt2", "step_000002.pt2"]
    config = json.loads((run / "config.json").read_text())
    assert config["conv_channels"] == 1 and "dynamic batch" in config["checkpoint_format"]

    # along the segment between a 3 and an 8
    out = tmp_path / "segment.csv"
    res = _cli("checkpoints", run, "--digits", "3,8", "--out", out)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert [r["checkpoint"] for r in rows] == names and all(r["verified"] == "True" for r in rows)
    X, y = workflows.load_digits()
    dom = workflows.data_domain(workflows.pick_points(X, y, digits="3,8"))
    t = np.linspace(dom.lo[0], dom.hi[0], 20001)[:, None]
    for row in rows:
        g = load_program(str(run / row["checkpoint"]))
        lp = regions.count(g, dom, engine="lp").regions
        seen = np.unique(np.packbits(lower(g).patterns(dom.to_input(t)), axis=1), axis=0).shape[0]
        assert int(row["regions"]) == lp >= seen >= 1

    # on a small plane through three digits (shrunk towards their mean)
    pts = _points_file(tmp_path)
    out = tmp_path / "plane.csv"
    res = _cli("checkpoints", run, "--plane", pts, "--triangle", "--out", out)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    plane = workflows.data_domain(np.load(pts), triangle=True)
    for row in rows:
        g = load_program(str(run / row["checkpoint"]))
        rng = np.random.default_rng(0)
        uv = rng.random((40000, 2)) * (plane.hi - plane.lo) + plane.lo
        inside = np.all(uv @ _halfplanes(plane)[0].T <= _halfplanes(plane)[1], axis=1)
        seen = np.unique(np.packbits(lower(g).patterns(plane.to_input(uv[inside])), axis=1), axis=0).shape[0]
        assert int(row["regions"]) >= seen >= 1 and row["verified"] == "True"

    # the last program is the trained model, for any batch size
    model = torch.export.load(str(run / names[-1])).module()
    for b in (1, 5):
        ref = model(torch.from_numpy(X[:b]).float()).detach().double().numpy()
        assert np.abs(g.forward(X[:b]) - ref).max() < 1e-4


def _halfplanes(domain):
    """``A p <= b`` of a polygon domain's counter-clockwise vertices."""
    P = np.asarray(domain.vertices, dtype=float)
    E = np.roll(P, -1, axis=0) - P
    N = np.stack([E[:, 1], -E[:, 0]], axis=1)
    return N, np.einsum("ij,ij->i", N, P)


@pytest.mark.parametrize("args, message", [
    (["--conv-channels", "1", "--residual-blocks", "1"], "one of --residual-blocks and --conv-channels"),
    (["--conv-channels", "0"], "--conv-channels"),
    (["--conv-channels", "x"], "--conv-channels"),
    (["--conv-channels", "1", "--hidden", "0"], "--hidden"),
])
def test_bad_cnn_options_touch_nothing(tmp_path, args, message):
    run = tmp_path / "run"
    res = _cli("train-digits", "--out-dir", run, *args)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert not run.exists()


def test_op_partitions_are_drawn():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure

    from regions import plot as rp

    g, dom = _tiny(4, False)
    part = regions.partition(g, dom)
    n = part.n_regions
    for fn, options, kind in [(rp.plot_partition, {}, PolyCollection),
                              (rp.plot_partition, {"color": "piece"}, PolyCollection),
                              (rp.plot_partition, {"color": "pattern"}, PolyCollection),
                              (rp.plot_edges, {}, LineCollection),
                              (rp.plot_edges, {"boundary": False}, LineCollection),
                              (rp.plot_decision_boundary, {}, LineCollection),
                              (rp.plot_output, {"colorbar": True}, list)]:
        ax = Figure().add_subplot()
        art = fn(part, ax, **options)
        assert isinstance(art, kind)
        assert ax.get_xlabel().startswith("$u$") and ax.get_ylabel().startswith("$v$")
        assert "exact" in ax.get_title()
    ax = Figure().add_subplot()
    coll = rp.plot_partition(part, ax)
    assert f"{n} linear regions (exact)" in ax.get_title()
    areas = [_area(path.vertices) for path in coll.get_paths()]  # the drawn polygons
    assert len(areas) == n and min(areas) > 0
    assert abs(sum(areas) - dom.measure) <= 1e-9 * dom.measure
    ax = Figure().add_subplot()
    rp.plot_partition(part, ax, color="piece")
    assert f"{part.n_pieces} affine pieces" in ax.get_title()
    # one panel per non-linear op: the regions after it are the distinct pattern prefixes
    axes = Figure().subplots(1, 2)
    panels = rp.plot_layers(g, dom, axes)
    assert len(panels) == 2 and all(isinstance(a[0], PolyCollection) for a in panels)
    first = lower(g).units[0].n_bits
    n1 = np.unique(np.packbits(part.patterns[:, :first], axis=1), axis=0).shape[0]
    assert f"{n1} regions (exact)" in axes[0].get_title() and f"{n} regions (exact)" in axes[1].get_title()
    assert "after relu" in axes[0].get_title()
    # a 1-D partition has no polygons: refused in one sentence
    with pytest.raises(regions.RegionsError, match="expected a 2-D partition"):
        rp.plot_partition(regions.partition(g, regions.segment(np.zeros(16), np.ones(16))), Figure().add_subplot())


@pytest.fixture(scope="module")
def cnn_program(tmp_path_factory):
    """A tiny CNN's program (dynamic batch) and a file of three points for its plane."""
    from regions.experiments import digits

    folder = tmp_path_factory.mktemp("cnn_program")
    torch.manual_seed(4)
    prog = folder / "cnn.pt2"
    torch.export.save(digits.export_program(_Tiny().eval(), torch.zeros(2, 16)), str(prog))
    pts = folder / "pts.npy"
    np.save(pts, np.random.default_rng(4).normal(size=(3, 16)) * 0.3)
    return prog, pts


@pytest.mark.parametrize("kind", ["partition", "layers", "output"])
def test_cli_plot_reads_a_cnn_program(tmp_path, cnn_program, kind):
    prog, pts = cnn_program
    out = tmp_path / f"{kind}.png"
    res = _cli("plot", "--weights", prog, "--plane", pts, "--margin", 0.2, "--kind", kind, "--out", out)
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
