"""A small MLP trained on scikit-learn's bundled 8x8 digits, with checkpoints.

Everything runs offline on the CPU: the data ship with scikit-learn
(:func:`regions.workflows.load_digits`, pixels scaled to ``[0, 1]``), the
model is an ``nn.Sequential`` of ``Linear`` layers with ReLU (or leaky
ReLU) between them, and a few epochs take seconds.

:func:`train_digits` writes into ``out_dir``:

* ``step_000000.pt``, ``step_000042.pt``, ... -- ``model.state_dict()``
  at initialisation and after every epoch (or every ``save_every`` steps),
  each written atomically;
* ``history.csv`` -- ``checkpoint, step, epoch, loss, train_acc, test_acc``
  per checkpoint (rewritten atomically after each);
* ``config.json`` -- architecture, activation, seed and hyper-parameters.

With ``residual_blocks`` (:func:`make_residual_mlp`) or ``conv_channels``
(:func:`make_cnn`: Conv2d -> ReLU -> MaxPool2d -> Linear) the checkpoints
are ``step_*.pt2`` programs of ``torch.export`` with a dynamic batch
dimension (:func:`export_program`), read back without unpickling.

A 64-32-32-10 checkpoint is about 15 kB.  Count its regions with
:func:`regions.workflows.checkpoint_series` or ``regions checkpoints``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import RegionsError
from ..core.io import write_atomic, write_text_atomic
from ..interop.fx import from_torch_any
from ..interop.pytorch import _torch, parse_activation
from .workflows import series_csv, load_digits

__all__ = ["DigitsRun", "digits_split", "export_program", "make_cnn", "make_mlp", "make_residual_mlp",
           "train_digits"]


def digits_split(*, seed: int = 0, test_fraction: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices of the digits data (a seeded permutation).

    Returns
    -------
    train, test : ndarray of int
    """
    if not 0.0 < test_fraction < 1.0:
        raise RegionsError(f"expected test_fraction in (0, 1), got {test_fraction!r}")
    n = 1797
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def make_mlp(hidden: Sequence[int] = (32, 32), *, activation: str | float = "relu", n_in: int = 64,
             n_out: int = 10):
    """``nn.Sequential`` of ``Linear`` layers with the activation between them (PyTorch's default init)."""
    torch = _torch()
    nn = torch.nn
    slope = parse_activation(activation)
    sizes = [int(n_in), *[int(h) for h in hidden], int(n_out)]
    if min(sizes) < 1:
        raise RegionsError(f"expected positive layer sizes, got {sizes}")
    mods: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            mods.append(nn.ReLU() if slope == 0.0 else nn.LeakyReLU(slope))
    return nn.Sequential(*mods)


def make_residual_mlp(width: int = 32, blocks: int = 2, *, activation: str | float = "relu", n_in: int = 64,
                      n_out: int = 10):
    """``x -> h = a(W0 x + b0)``, then ``blocks`` residual blocks ``h -> h + a(W h + b)``, then a linear output.

    A hand-written ``nn.Module`` (PyTorch's default init): :func:`regions.from_torch`
    reads it as an op graph; its checkpoints are ``torch.export`` programs (``.pt2``).
    """
    torch = _torch()
    nn = torch.nn
    slope = parse_activation(activation)
    if min(int(width), int(blocks) + 1, int(n_in), int(n_out)) < 1:
        raise RegionsError(f"expected width >= 1 and blocks >= 0, got {width!r} and {blocks!r}")

    class ResidualMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(int(n_in), int(width))
            self.blocks = nn.ModuleList(nn.Linear(int(width), int(width)) for _ in range(int(blocks)))
            self.out = nn.Linear(int(width), int(n_out))

        def forward(self, x):
            act = (lambda z: torch.relu(z)) if slope == 0.0 else (  # noqa: E731
                lambda z: torch.nn.functional.leaky_relu(z, slope))
            h = act(self.inp(x))
            for blk in self.blocks:
                h = h + act(blk(h))
            return self.out(h)

    return ResidualMLP()


def make_cnn(channels: int = 2, hidden: Sequence[int] = (), *, activation: str | float = "relu",
             kernel: int = 3, pool: int = 2, n_out: int = 10):
    """A small CNN on the flat 8x8 digits: ``Conv2d -> activation -> MaxPool2d -> [Linear -> activation]* -> Linear``.

    The input is the flat 64-vector of :func:`regions.workflows.load_digits`
    (reshaped to one 8x8 channel inside ``forward``), so data slices are in
    the same 64 coordinates as for the MLPs.  The convolution has
    ``channels`` output channels, a ``kernel x kernel`` window with padding
    ``kernel // 2`` (8x8 stays 8x8); ``MaxPool2d(pool)`` halves each side for
    ``pool = 2``; ``hidden`` adds fully connected layers before the output.
    A hand-written ``nn.Module`` (PyTorch's default init):
    :func:`regions.from_torch` reads it as an op graph.
    """
    torch = _torch()
    nn = torch.nn
    slope = parse_activation(activation)
    channels, kernel, pool = int(channels), int(kernel), int(pool)
    if channels < 1 or kernel < 1 or kernel % 2 == 0 or not 1 <= pool <= 8:
        raise RegionsError(f"expected channels >= 1, an odd kernel and a pool in 1..8, got {channels!r}, "
                           f"{kernel!r} and {pool!r}")
    side = 8 // pool
    sizes = [channels * side * side, *[int(h) for h in hidden], int(n_out)]
    if min(sizes) < 1:
        raise RegionsError(f"expected positive layer sizes, got {sizes}")

    class DigitsCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, channels, kernel, padding=kernel // 2)
            self.pool = nn.MaxPool2d(pool)
            self.dense = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

        def forward(self, x):
            act = (lambda z: torch.relu(z)) if slope == 0.0 else (  # noqa: E731
                lambda z: torch.nn.functional.leaky_relu(z, slope))
            h = self.pool(act(self.conv(x.reshape(-1, 1, 8, 8)))).flatten(1)
            for lin in self.dense[:-1]:
                h = act(lin(h))
            return self.dense[-1](h)

    return DigitsCNN()


def export_program(model, example):
    """``torch.export.export(model, (example,))`` with a dynamic batch dimension (any batch size).

    The program (``torch.export.save`` it to a ``.pt2`` file) takes inputs
    of any batch size, the other dimensions as in ``example``.
    """
    torch = _torch()
    batch = torch.export.Dim("batch", min=1)
    return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))


@dataclass(eq=False)
class DigitsRun:
    """What :func:`train_digits` wrote and learned.

    Attributes
    ----------
    out_dir : Path
    checkpoints : list of Path
        In training order (the first is the initialisation).
    history : list of dict
        One row per checkpoint: ``checkpoint``, ``step``, ``epoch``,
        ``loss`` (mean training loss since the previous checkpoint; NaN at
        step 0), ``train_acc``, ``test_acc``.
    model : torch.nn.Sequential
        The trained model (eval mode).
    config : dict
    """

    out_dir: Path
    checkpoints: list
    history: list
    model: Any
    config: dict = field(default_factory=dict)

    def network(self):
        """The trained model as an exact :class:`~regions.network.Network` (an op graph when residual or a CNN)."""
        return from_torch_any(self.model, (64,))


def train_digits(
    out_dir: str | os.PathLike,
    *,
    hidden: Sequence[int] = (32, 32),
    epochs: int = 5,
    batch_size: int = 32,
    lr: float = 1e-2,
    seed: int = 0,
    save_every: int | None = None,
    test_fraction: float = 0.25,
    activation: str | float = "relu",
    max_steps: int | None = None,
    on_checkpoint: Callable[[dict], None] | None = None,
    residual_blocks: int | None = None,
    conv_channels: int | None = None,
) -> DigitsRun:
    """Train a small MLP on the bundled 8x8 digits and write its checkpoints.

    Parameters
    ----------
    out_dir : path
        Folder for the checkpoints, ``history.csv`` and ``config.json``
        (created if missing; existing ``step_*.pt`` files in it are
        refused, so that two runs never mix).
    hidden : sequence of int
        Hidden widths; the model is ``64-hidden-10``.
    epochs : int
        Passes over the training split.
    batch_size, lr : int, float
        Adam with this learning rate on mini-batches of this size.
    seed : int
        Seeds the split (``np.random.default_rng``), the initialisation and
        the batch order (``torch.manual_seed`` inside ``torch.random.fork_rng``:
        the caller's global RNG state is left as it was).
    save_every : int, optional
        Save every this many optimizer steps; default once per epoch.
        Step 0 (the initialisation) and the last step are always saved.
    test_fraction : float
        Fraction of the 1797 digits held out for ``test_acc``.
    activation : str or float
        ``"relu"`` or ``"leaky_relu[:SLOPE]"`` (see
        :func:`regions.torch_import.parse_activation`).
    max_steps : int, optional
        Stop after this many optimizer steps (a tiny budget for tests).
    on_checkpoint : callable, optional
        Called with each history row as its checkpoint is written.
    residual_blocks : int, optional
        Train :func:`make_residual_mlp` (width ``hidden[0]``, this many
        blocks) instead; its checkpoints are ``torch.export`` programs
        ``step_*.pt2`` (any architecture, read without unpickling).
    conv_channels : int, optional
        Train :func:`make_cnn` instead (this many channels of 3x3
        convolution, ReLU or the activation, 2x2 max pooling, then the
        widths of ``hidden`` as dense layers, then 10 outputs); its
        checkpoints are ``torch.export`` programs ``step_*.pt2``, as with
        ``residual_blocks``.  Both programs take any batch size
        (:func:`export_program`).

    Returns
    -------
    DigitsRun
    """
    torch = _torch()
    nn = torch.nn
    epochs, batch_size = int(epochs), int(batch_size)
    if epochs < 1 or batch_size < 1:
        raise RegionsError(f"expected epochs >= 1 and batch_size >= 1, got {epochs} and {batch_size}")
    if save_every is not None and int(save_every) < 1:
        raise RegionsError(f"expected save_every >= 1, got {save_every!r}")
    if max_steps is not None and int(max_steps) < 1:
        raise RegionsError(f"expected max_steps >= 1, got {max_steps!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise RegionsError(f"expected a positive learning rate, got {lr!r}")
    slope = parse_activation(activation)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise RegionsError(f"expected a folder for the run, got the file {str(out)!r}")
    out.mkdir(parents=True, exist_ok=True)
    if residual_blocks is not None and (int(residual_blocks) < 0 or len(hidden) < 1):
        raise RegionsError(f"expected residual_blocks >= 0 and a width in hidden, got {residual_blocks!r}, {hidden!r}")
    if conv_channels is not None and residual_blocks is not None:
        raise RegionsError(f"expected one of residual_blocks and conv_channels, got both ({residual_blocks!r} "
                           f"and {conv_channels!r})")
    if conv_channels is not None and int(conv_channels) < 1:
        raise RegionsError(f"expected conv_channels >= 1, got {conv_channels!r}")
    old = sorted(p.name for p in out.glob("step_*.pt*"))
    if old:
        raise RegionsError(f"expected an empty run folder, got {len(old)} checkpoint(s) in {str(out)!r} "
                           f"(first {old[0]!r}); choose a new folder")

    X, y = load_digits()
    train_idx, test_idx = digits_split(seed=seed, test_fraction=test_fraction)
    Xtr = torch.from_numpy(X[train_idx]).float()
    ytr = torch.from_numpy(y[train_idx])
    Xte = torch.from_numpy(X[test_idx]).float()
    yte = torch.from_numpy(y[test_idx])
    config = {
        "data": "sklearn.datasets.load_digits, pixels / 16",
        "arch": "-".join(str(s) for s in (64, *hidden, 10)),
        "hidden": [int(h) for h in hidden],
        "activation": "relu" if slope == 0.0 else f"leaky_relu:{slope!r}",
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": float(lr),
        "optimizer": "Adam",
        "seed": int(seed),
        "save_every": None if save_every is None else int(save_every),
        "max_steps": None if max_steps is None else int(max_steps),
        "test_fraction": float(test_fraction),
        "n_train": int(train_idx.size),
        "n_test": int(test_idx.size),
        "checkpoint_format": "torch.save(model.state_dict()) of nn.Sequential(Linear, activation, ...)",
    }
    if residual_blocks is not None:
        config["arch"] = f"64-{int(hidden[0])}x{int(residual_blocks)} residual blocks-10"
        config["residual_blocks"] = int(residual_blocks)
    if conv_channels is not None:
        dense = "".join(f"-{int(h)}" for h in hidden)
        config["arch"] = f"64 (1x8x8)-conv3x3x{int(conv_channels)}-maxpool2x2 ({int(conv_channels) * 16}){dense}-10"
        config["conv_channels"] = int(conv_channels)
    if residual_blocks is not None or conv_channels is not None:
        config["checkpoint_format"] = ("torch.export.save(torch.export.export(model)) (.pt2), "
                                       "dynamic batch dimension")
    write_text_atomic(out / "config.json", json.dumps(config, indent=2) + "\n")

    history: list[dict] = []
    paths: list[Path] = []

    def accuracy(model, Xs, ys) -> float:
        with torch.no_grad():
            return float((model(Xs).argmax(1) == ys).double().mean())

    def save(model, step: int, epoch: float, loss: float) -> None:
        model.eval()
        if residual_blocks is not None or conv_channels is not None:
            path = out / f"step_{step:06d}.pt2"
            ep = export_program(model, Xte[:2])
            write_atomic(path, lambda fh: torch.export.save(ep, fh), binary=True)
        else:
            path = out / f"step_{step:06d}.pt"
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            write_atomic(path, lambda fh: torch.save(state, fh), binary=True)
        row = {"checkpoint": path.name, "step": step, "epoch": round(epoch, 4), "loss": loss,
               "train_acc": accuracy(model, Xtr, ytr), "test_acc": accuracy(model, Xte, yte)}
        model.train()
        history.append(row)
        paths.append(path)
        write_text_atomic(out / "history.csv", series_csv(history))
        if on_checkpoint is not None:
            on_checkpoint(row)

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # these models are tiny: one thread is faster than several (restored below)
        model = _train(torch, nn, seed, conv_channels, residual_blocks, hidden, slope, lr, Xtr, ytr, epochs,
                       batch_size, save_every, max_steps, save)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return DigitsRun(out, paths, history, model, config)


def _train(torch, nn, seed, conv_channels, residual_blocks, hidden, slope, lr, Xtr, ytr, epochs, batch_size,
           save_every, max_steps, save):
    """The seeded training loop of :func:`train_digits` (``save`` writes each checkpoint); the model."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if conv_channels is not None:
            model = make_cnn(int(conv_channels), hidden, activation=slope)
        elif residual_blocks is not None:
            model = make_residual_mlp(int(hidden[0]), int(residual_blocks), activation=slope)
        else:
            model = make_mlp(hidden, activation=slope)
        opt = torch.optim.Adam(model.parameters(), lr=float(lr))
        loss_fn = nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(seed)
        n = Xtr.shape[0]
        batches = (n + batch_size - 1) // batch_size
        step, losses = 0, []
        save(model, 0, 0.0, float("nan"))
        done = False
        for ep in range(epochs):
            order = torch.randperm(n, generator=gen)
            for j in range(batches):
                idx = order[j * batch_size:(j + 1) * batch_size]
                opt.zero_grad()
                loss = loss_fn(model(Xtr[idx]), ytr[idx])
                loss.backward()
                opt.step()
                step += 1
                losses.append(float(loss.detach()))
                last = (ep == epochs - 1 and j == batches - 1) or (max_steps is not None and step >= max_steps)
                due = (save_every is not None and step % int(save_every) == 0) or (
                    save_every is None and j == batches - 1)
                if due or last:
                    save(model, step, ep + (j + 1) / batches, float(np.mean(losses)))
                    losses = []
                if last:
                    done = True
                    break
            if done:
                break
    return model
