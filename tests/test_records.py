"""One record schema (docs/records.md): count --json, slice records and checkpoint-style rows share their keys.

Independent values: the sawtooth construction's known count (``(w + 1)^L`` regions on ``[0, 1]``) and its
parameter count written out by hand; the schema's key list is compared with the table in docs/records.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions.cli.main import main
from regions.core.result import RECORD_KEYS, CountResult, count_record
from regions.experiments import workflows

DOCS = Path(__file__).resolve().parents[1] / "docs" / "records.md"


def _cli_count():
    r = CliRunner().invoke(main, ["count", "--construction", "sawtooth", "--depth", "3", "--width", "4",
                                  "--box", "0:1", "--verify", "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def _slice():
    net = regions.constructions.sawtooth(3, 4)
    return workflows.slice_through(net, domain=regions.box(0.0, 1.0, dim=1)).record


def _checkpoint_row():
    net = regions.constructions.sawtooth(3, 4)
    dom = regions.box(0.0, 1.0, dim=1)
    part = regions.partition(net, dom)
    return count_record(part.count(), net, dom, seconds=0.0, verified=True)


@pytest.mark.parametrize("make", [_cli_count, _slice, _checkpoint_row], ids=["count", "slice", "row"])
def test_shared_keys_and_meaning(make):
    rec = make()
    assert list(k for k in rec if k in RECORD_KEYS) == list(RECORD_KEYS)  # every key, in one order
    # sawtooth of depth 3 and width 4 on [0, 1]: (4 + 1)^3 regions; params: 1*4+4 + 2*(4*4+4) + 4*1+1
    assert rec["regions"] == 5 ** 3 and rec["params"] == 8 + 40 + 5
    assert rec["input_dim"] == 1 and rec["arch"] == "1-4-4-4-1" and rec["engine"] == "line"
    assert rec["partial"] is False and rec["verified"] is True and rec["layer_counts"][-1] == 125
    assert rec["domain"]["kind"] == "box" and isinstance(rec["seconds"], float)


def test_extra_keys_never_replace_shared_ones():
    net = regions.Network.from_arch("2-3-1", seed=0)
    res = CountResult(7, None, [7], "planar", extra={"lps": 3, "domain": "not this", "seconds": -1})
    rec = count_record(res, net, regions.box(-1.0, 1.0, dim=2), seconds=np.float64(0.25), verified=False)
    assert rec["domain"]["kind"] == "box" and rec["seconds"] == 0.25 and rec["lps"] == 3
    assert rec["params"] == 2 * 3 + 3 + 3 + 1 and rec["verified"] is False


def test_docs_table_lists_the_schema():
    rows = re.findall(r"^\| `([a-z_]+)`(?:, `([a-z_]+)`)? \|", DOCS.read_text(), flags=re.M)
    documented = [k for pair in rows for k in pair if k]
    assert [k for k in documented if k in RECORD_KEYS] == list(RECORD_KEYS)
    assert set(documented) - set(RECORD_KEYS) == {"bounded", "unbounded"}


def test_checkpoint_csv_cells_hold_no_comma():
    rec = {"checkpoint": "a.pt", "step": 0, **_checkpoint_row(), "mean_measure": float("nan")}
    header, line = workflows.series_csv([rec]).splitlines()
    row = dict(zip(header.split(","), line.split(",")))  # a naive reader sees every column
    assert len(header.split(",")) == len(line.split(","))
    assert row["layer_counts"] == " ".join(str(c) for c in rec["layer_counts"]) and row["domain.kind"] == "box"
    assert (row["regions"], row["verified"], row["mean_measure"]) == ("125", "True", "nan")
