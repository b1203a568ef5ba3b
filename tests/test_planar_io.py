"""Shapely/GeoJSON interop, pictures and the CLI of the 2-D engine."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions import Network, RegionsError, geo
from regions.engines.planar import partition_plane

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


@pytest.fixture(scope="module")
def part():
    return partition_plane(Network.from_arch("2-12-12-1", seed=4))


def test_shapely_polygons_tile_the_domain(part):
    import shapely

    polys = geo.to_shapely(part)
    assert len(polys) == part.n_regions
    assert np.allclose(shapely.area(polys), part.measures, rtol=1e-12, atol=0)
    union = shapely.union_all(polys)
    assert union.area == pytest.approx(4.0, rel=1e-12)
    assert all(p.is_valid for p in polys)
    assert all(p.contains(shapely.Point(*w)) for p, w in zip(polys, part.witnesses))
    pieces = geo.pieces_to_shapely(part)
    assert len(pieces) == part.n_pieces


def test_geojson_properties_and_atomic_file(part, tmp_path):
    path = tmp_path / "regions.geojson"
    fc = geo.to_geojson(part, path)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == part.n_regions
    back = json.loads(path.read_text())
    f0 = back["features"][0]
    assert f0["geometry"]["coordinates"][0][0] == f0["geometry"]["coordinates"][0][-1]
    assert set(f0["properties"]) >= {"pattern", "area", "piece", "witness", "jacobian", "offset"}
    bits = f0["properties"]["pattern"].replace("|", "")
    assert bits == "".join("1" if x else "0" for x in part.patterns[0])
    assert back["properties"]["regions"] == part.n_regions
    with pytest.raises(RegionsError):
        geo.to_shapely("not a partition")


def test_pictures_return_artists(part):
    import matplotlib.pyplot as plt

    from regions import plotting

    fig, ax = plt.subplots()
    assert plotting.plot_partition(part, ax) in ax.collections
    for color in ("piece", "pattern"):
        plotting.plot_partition(part, ax, color=color)
    arts = plotting.plot_output(part, ax, colorbar=True)
    assert len(arts) == 3
    assert plotting.plot_decision_boundary(part, ax) in ax.collections
    plt.close(fig)
    panels = plotting.plot_layers(part.network)
    assert len(panels) == part.network.depth
    plt.close("all")
    with pytest.raises(RegionsError):
        plotting.region_colors(part, "nope")


def test_decision_boundary_is_exact():
    from regions.plot.partition import decision_segments

    # y = u + v - 0.5 on one region: the segment u + v = 0.5 clipped to the square
    net = Network([(np.eye(2), np.array([5.0, 5.0])), (np.ones((1, 2)), np.array([-10.5]))])
    part = partition_plane(net)
    segs = decision_segments(part)
    assert segs.shape == (1, 2, 2)
    assert np.allclose(np.sort(segs[0][:, 0]), [-0.5, 1.0])
    assert np.allclose(segs[0].sum(axis=1), 0.5)
    # on a deeper random net every segment end lies on its region's boundary and the output vanishes there
    net = Network.from_arch("2-10-10-1", seed=2, bias=0.1)
    part = partition_plane(net)
    segs = decision_segments(part).reshape(-1, 2)
    if segs.size:
        assert np.allclose(net(segs), 0.0, atol=1e-9)


def _cli(args):
    from regions.cli.main import main

    return CliRunner().invoke(main, args)


def test_cli_count_planar_json_verify(tmp_path):
    res = _cli(["count", "--arch", "2-16-16-1", "--json", "--verify"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)
    assert rec["engine"] == "planar" and rec["verified"] and len(rec["layer_counts"]) == 2
    pts = tmp_path / "pts.npy"
    np.save(pts, np.random.default_rng(0).normal(size=(3, 20)))
    res = _cli(["count", "--arch", "20-8-8-1", "--plane", str(pts), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["domain"]["kind"] == "plane"
    res = _cli(["count", "--arch", "20-8-8-1", "--plane", str(pts), "--triangle", "--json", "--verify"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("kind,suffix", [("partition", "png"), ("output", "svg"), ("layers", "pdf"),
                                         ("boundary", "png"), ("pieces", "png")])
def test_cli_plot_writes_pictures(tmp_path, kind, suffix):
    out = tmp_path / f"p.{suffix}"
    res = _cli(["plot", "--arch", "2-8-8-1", "--kind", kind, "--out", str(out), "--dpi", "40", "--size", "2"])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 100


def test_cli_plot_errors_are_one_sentence(tmp_path):
    res = _cli(["plot", "--arch", "2-8-1", "--out", str(tmp_path / "p.jpg")])
    assert res.exit_code == 2 and "png" in res.output
    res = _cli(["plot", "--arch", "3-8-1", "--out", str(tmp_path / "p.png")])
    assert res.exit_code == 2 and "Error" in res.output
    assert not (tmp_path / "p.png").exists()
