"""Cells on a real Dask ``distributed.LocalCluster`` (processes) give the rows of a local run."""

from __future__ import annotations

import pytest

from regions import sweep as S

distributed = pytest.importorskip("distributed")


def strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as c:
        yield c


def test_dask_rows_equal_local_rows(cluster, tmp_path):
    args = dict(input_dim=1, depths="1:3", widths="3,5,8", seeds=3)
    local = S.sweep(**args, jobs=2, out=tmp_path / "local.csv")
    remote = S.sweep(**args, scheduler=cluster.scheduler_address, out=tmp_path / "dask.csv")
    assert strip(remote) == strip(local)
    assert remote[-1]["construction_count"] == 9**3
    assert strip(S.read_rows(tmp_path / "dask.csv")) == strip(S.read_rows(tmp_path / "local.csv"))


def test_dask_time_limit_runs_cells_in_a_child(cluster):
    cells = S.make_cells(1, [1, 5], [10], seeds=10**7)[:1] + S.make_cells(1, [2], [3], seeds=2)
    # the limit leaves the quick cell's child process time to start on a loaded machine
    rows = {r["depth"]: r for r in S.DaskRunner(cluster.scheduler_address, max_seconds=8).run(cells)}
    assert rows[1]["note"].startswith("stopped after 8 s")
    assert rows[1]["construction_count"] == 11 and rows[1]["random_mean"] is None
    assert rows[2]["note"] is None and rows[2] == {**S.run_cell(cells[1]), "seconds": rows[2]["seconds"]}


def test_dask_via_client_object(cluster):
    with distributed.Client(cluster) as client:
        rows = S.sweep(1, "2", "4", seeds=2, scheduler=client)
    assert rows[0]["construction_count"] == 25
