"""Cells of notebook 02: regions per parameter (Prince, figure 4.7 a and b)."""

CELLS = [
    ("md", r"""
# Regions per parameter — figure 4.7, with exact counts

Prince's figure 4.7 plots the maximum number of linear regions against the
number of parameters, one curve per depth: (a) one input, widths up to 10;
(b) ten inputs, widths up to 50. For a fixed parameter budget the deeper
networks can make far more regions. This notebook redraws both panels from
`regions.sweep` results: the bounds as exact integers, the networks that
attain them counted by enumeration, and random initialisations counted
exactly beside them.
"""),
    ("code", r"""
import numpy as np
import matplotlib.pyplot as plt
import regions
from regions import sweep, theory

plt.rcParams.update(regions.plot.STYLE)   # the figure style of the library and the CLI
"""),
    ("md", r"""
## (a) One input, depths 1–5, widths 3–10

This is what `regions sweep` does with no options. For one input the
maximum is $\prod_l (n_l + 1)$, attained by the sawtooth; its count is
enumerated, not taken from the formula. The random networks (He-normal,
10 seeds per cell, counted exactly on $[-1, 1]$) make a tiny fraction of it.
"""),
    ("code", r"""
rows_a = sweep.sweep(1, "1:5", "3:10", seeds=10, jobs=0)
print(sweep.format_table([r for r in rows_a if r["width"] in (3, 10)], notes=False))
top = next(r for r in rows_a if r["depth"] == 5 and r["width"] == 10)
print(f"\n{top['params']} parameters -> {top['construction_count']:,} regions counted by enumeration "
      f"(bound {top['lower']:,}); random mean {top['random_mean']:.1f}")
"""),
    ("code", r"""
fig, ax = plt.subplots(figsize=(7.5, 5.4))
sweep.plot(rows_a, ax=ax)
ax.set_title("(a) " + ax.get_title());
"""),
    ("md", r"""
## (b) Ten inputs, depths 1–5, widths 10–50

With ten inputs the counts are astronomically large: 10,801 parameters
(five layers of 50) give at least
$\prod_{l<5} (\lfloor 50/10 \rfloor + 1)^{10} \cdot \sum_{j \le 10} \binom{50}{j}$
regions — an exact 42-digit integer, far beyond any enumeration. The deep
lower bound is proved for widths $\ge 3 d = 30$; narrower rows show the
shallow (Zaslavsky) and upper bounds only. Both are bounds on the maximum
over all weights, drawn as lines; nothing here is counted.
"""),
    ("code", r"""
rows_b = sweep.sweep(10, "1:5", "10:50:10", mode="bound", jobs=0)
big = next(r for r in rows_b if r["depth"] == 5 and r["width"] == 50)
print(f"{big['params']:,} parameters: lower bound {big['lower']:,}  (> 10^40: {big['lower'] > 10**40})")
print("upper bound:", f"{big['upper']:,}")
fig, ax = plt.subplots(figsize=(7.5, 5.4))
sweep.plot(rows_b, ax=ax)      # bounds only: solid = lower bound, dotted = upper bound
ax.set_title("(b) " + ax.get_title());
"""),
    ("md", r"""
## What random initialisations reach, in ten dimensions

Counting all regions of a random 10-input network over a box is out of
reach at these sizes, but its exact partition of a **plane through three
random points** of $[-1, 1]^{10}$ is cheap (the 2-D engine). These are
exact counts of a 2-D slice — a different quantity from the bounds above,
which count regions in all of $\mathbb R^{10}$ — and they grow with depth
far more slowly than the bound.
"""),
    ("code", r"""
rows_r = sweep.sweep(10, "1:3", "10,30,50", mode="random", domain="plane", seeds=3, jobs=0)
print(sweep.format_table(rows_r, notes=False))
"""),
]
