"""Import PyTorch models as exact :class:`~regions.network.Network` objects.

:func:`from_torch` turns an ``nn.Sequential`` (nested ones too) into the
network of affine layers with one activation between them that it
computes in eval mode; :func:`load_torch` does the same for files written
by ``torch.save`` (state dicts, or whole modules), always read with
``torch.load(..., weights_only=True)``.

Supported layers
----------------
Affine maps, merged when no activation separates them:

* ``Linear`` (on the last dimension of any shape),
* ``Conv2d`` (any stride, padding, padding mode, dilation, groups) and
  ``AvgPool2d``, as exact dense linear maps for the given input shape,
* ``BatchNorm1d`` / ``BatchNorm2d`` with running statistics, folded in as
  in eval mode (``y = (x - mean) / sqrt(var + eps) * weight + bias``),
* ``Flatten``, ``Unflatten``, ``Identity``, and ``Dropout`` (all its
  variants; identity in eval mode).

Activations: ``ReLU`` and ``LeakyReLU``; every activation of one model must
have the same negative slope (ReLU's is 0).  Two activations in a row, an
activation first or last are kept exactly by an identity affine layer.

Anything else (``GELU``, ``MaxPool2d``, attention, custom modules, layers
whose ``forward`` is overridden) is refused with the layer's name and
position.  The imported network is the function ``module.eval()``
computes; the module itself (its mode, its parameters) is left unchanged.

PyTorch is an optional dependency (``pip install 'regions[torch]'``; for
the CPU build install ``torch==2.13.0`` first) imported only when these
functions are called.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import RegionsError
from ..model.network import Network

__all__ = ["from_torch", "load_torch", "parse_activation", "max_deviation", "SAFE_LAYERS"]

#: Names of the ``torch.nn`` classes that :func:`from_torch` understands.
SAFE_LAYERS = (
    "Sequential",
    "Linear",
    "Conv2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Flatten",
    "Unflatten",
    "Identity",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "AlphaDropout",
    "ReLU",
    "LeakyReLU",
)

#: Most entries of a Conv2d/AvgPool2d layer turned into a dense float64 matrix (512 MiB).
MAX_DENSE_ENTRIES = 1 << 26

_HINTS = {
    "MaxPool1d": "max pooling is not an affine map and is not supported yet",
    "MaxPool2d": "max pooling is not an affine map and is not supported yet",
    "GELU": "only ReLU and LeakyReLU activations give piecewise-linear networks",
    "SiLU": "only ReLU and LeakyReLU activations give piecewise-linear networks",
    "Tanh": "only ReLU and LeakyReLU activations give piecewise-linear networks",
    "Sigmoid": "only ReLU and LeakyReLU activations give piecewise-linear networks",
    "Softmax": "drop the final Softmax: it does not change the activation regions",
    "LogSoftmax": "drop the final LogSoftmax: it does not change the activation regions",
    "MultiheadAttention": "attention is not piecewise linear",
    "BatchNorm3d": "only BatchNorm1d and BatchNorm2d are supported",
}


def _torch():
    """Import torch, or raise a RegionsError that says how to install it."""
    try:
        import torch  # noqa: PLC0415
        import torch.nn  # noqa: F401,PLC0415
    except ImportError as exc:
        raise RegionsError(
            "expected PyTorch to be installed for the torch import (pip install torch==2.13.0 "
            f"for the CPU build, then pip install 'regions[torch]'), got ImportError: {exc}"
        ) from None
    return torch


# --------------------------------------------------------------- activation
def parse_activation(activation: str | float) -> float:
    """The negative slope of an activation given by name or number.

    Parameters
    ----------
    activation : str or float
        ``"relu"`` (slope 0), ``"leaky_relu"`` (PyTorch's default slope
        0.01), ``"leaky_relu:0.2"`` / ``"leaky_relu(0.2)"``, or the slope
        itself as a number in ``[0, 1)``.

    Returns
    -------
    float
        The negative slope.
    """
    if isinstance(activation, (int, float)) and not isinstance(activation, bool):
        slope = float(activation)
    else:
        text = str(activation).strip().lower().replace("-", "_")
        m = re.fullmatch(r"(relu|leaky_?relu|leakyrelu)(?:\s*[:(=]\s*([^)]*)\)?)?", text)
        if not m:
            raise RegionsError(
                f"expected the activation 'relu', 'leaky_relu' or 'leaky_relu:SLOPE', got {activation!r}"
            )
        if m.group(1) == "relu":
            if m.group(2) is not None:
                raise RegionsError(f"expected 'relu' without a slope (or 'leaky_relu:SLOPE'), got {activation!r}")
            slope = 0.0
        elif m.group(2) is None:
            slope = 0.01
        else:
            try:
                slope = float(m.group(2))
            except ValueError:
                raise RegionsError(f"expected a numeric slope in {activation!r}, got {m.group(2)!r}") from None
    if not (np.isfinite(slope) and 0.0 <= slope < 1.0):
        raise RegionsError(f"expected a negative slope in [0, 1), got {slope!r} from {activation!r}")
    return slope


# ------------------------------------------------------------- the walk
class _Builder:
    """Accumulates affine maps on the flattened tensor; activations close a layer."""

    def __init__(self, torch, shape: tuple[int, ...] | None):
        self.torch = torch
        self.shape = shape  # current shape without batch, None until known
        self.M: np.ndarray | None = None  # pending affine map, None = identity
        self.c: np.ndarray | None = None
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        self.slope: float | None = None
        self.slope_from: str | None = None
        self.n_in: int | None = None if shape is None else int(np.prod(shape))

    # -- shape handling
    def need_shape(self, where: str, what: str) -> tuple[int, ...]:
        if self.shape is None:
            raise RegionsError(
                f"expected input_shape (without the batch dimension) for a model that starts with "
                f"{what}, got none for {where}"
            )
        return self.shape

    def set_start(self, shape: tuple[int, ...]) -> None:
        if self.shape is None:
            self.shape = tuple(int(s) for s in shape)
            self.n_in = int(np.prod(self.shape))

    # -- composition
    def affine(self, M: np.ndarray | None, c: np.ndarray, shape: tuple[int, ...]) -> None:
        """Apply ``x -> M x + c`` (``M=None``: identity) after the pending map."""
        if M is None:
            if self.c is None:
                self.c = np.zeros(int(np.prod(self.shape)))
            self.c = self.c + c
        elif self.M is None:
            self.M = M
            self.c = c if self.c is None else M @ self.c + c
        else:
            self.M = M @ self.M
            self.c = M @ self.c + c
        self.shape = tuple(int(s) for s in shape)

    def close(self) -> None:
        """End the pending affine map as one layer (identity if nothing pending)."""
        n_in = self.layers[-1][0].shape[0] if self.layers else self.n_in
        n_out = int(np.prod(self.shape))
        M = self.M if self.M is not None else np.eye(n_out, n_in)
        c = self.c if self.c is not None else np.zeros(n_out)
        self.layers.append((M, c))
        self.M, self.c = None, None

    def activation(self, slope: float, where: str) -> None:
        if self.slope is None:
            self.slope, self.slope_from = slope, where
        elif slope != self.slope:
            raise RegionsError(
                f"expected every activation of the model to have the same negative slope, got "
                f"{self.slope} at {self.slope_from} and {slope} at {where}"
            )
        self.need_shape(where, "an activation")
        self.close()


def _check_tensor(t, where: str) -> None:
    """Refuse tensors whose values cannot be read as real numbers without a silent cast or a guess."""
    torch = _torch()
    at = f" at {where}" if where else ""
    if not isinstance(t, torch.Tensor):
        raise RegionsError(f"expected a tensor at {where or 'this entry'}, got {type(t).__name__}")
    if t.layout != torch.strided:
        raise RegionsError(f"expected dense tensors, got a tensor with layout {t.layout}{at}; save t.to_dense() "
                           f"instead")
    if t.is_meta:
        raise RegionsError(f"expected tensors with values, got a tensor on the meta device{at} (it holds no "
                           f"numbers); save the trained weights instead")
    if t.is_quantized:
        raise RegionsError(f"expected float tensors, got a quantized tensor{at} ({t.dtype}); save "
                           f"t.dequantize() instead")
    if t.is_complex():
        raise RegionsError(f"expected real tensors, got a complex tensor{at} ({t.dtype}); its imaginary part "
                           f"is never dropped silently")
    if not (t.is_floating_point() or t.dtype in (torch.int8, torch.int16, torch.int32, torch.int64,
                                                  torch.uint8, torch.bool)):
        raise RegionsError(f"expected real numeric tensors, got a tensor of dtype {t.dtype}{at}")


def _np(t, where: str = "") -> np.ndarray:
    """A float64 NumPy copy of a real dense tensor (any device, any real dtype); others refused."""
    _check_tensor(t, where)
    torch = _torch()
    t = t.detach().cpu()
    if t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool):
        from ..core.io import exact_float64  # noqa: PLC0415 -- integers beyond 2^53 refused, never rounded

        return exact_float64(t.numpy(), where or "a tensor").copy()
    return t.double().numpy().copy()


def _leaves(module, prefix: str, out: list, nn) -> None:
    """Flatten nested Sequentials into (dotted name, layer) in forward order."""
    if isinstance(module, nn.Sequential):
        if type(module).forward is not nn.Sequential.forward:
            raise RegionsError(
                f"expected plain nn.Sequential containers, got {type(module).__name__} "
                f"{('at ' + repr(prefix)) if prefix else '(the model)'} with its own forward"
            )
        for name, child in module.named_children():
            _leaves(child, f"{prefix}.{name}" if prefix else name, out, nn)
    else:
        out.append((prefix, module))


def _kind(layer, nn) -> str | None:
    """The supported base class name of ``layer`` (forward not overridden), else None."""
    for name in SAFE_LAYERS[1:]:
        base = getattr(nn, name, None)
        if base is not None and isinstance(layer, base):
            return name if type(layer).forward is base.forward else None
    return None


def _push(torch, layer, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """Dense matrix (out, in) of a bias-free linear layer: the identity basis pushed through it in float64.

    Runs in chunks of basis vectors; refuses maps with more than
    :data:`MAX_DENSE_ENTRIES` entries.
    """
    n = int(np.prod(shape))
    with torch.no_grad():
        out_shape = tuple(layer(torch.zeros((1, *shape), dtype=torch.float64)).shape[1:])
    m = int(np.prod(out_shape))
    if n * m > MAX_DENSE_ENTRIES:
        raise RegionsError(
            f"expected a Conv2d/AvgPool2d map of at most {MAX_DENSE_ENTRIES} entries (it becomes a dense "
            f"matrix), got {m} x {n} for the input shape {shape}"
        )
    M = np.empty((m, n))
    step = max(1, (1 << 22) // max(m, 1))
    with torch.no_grad():
        for i in range(0, n, step):
            j = min(n, i + step)
            basis = torch.zeros((j - i, n), dtype=torch.float64)
            basis[:, i:j] = torch.eye(j - i, dtype=torch.float64)
            M[:, i:j] = layer(basis.reshape(j - i, *shape)).reshape(j - i, m).T.numpy()
    return M, out_shape


def _conv_shape_check(shape, where, name, want_ndim, channels):
    if len(shape) != want_ndim or (channels is not None and shape[0] != channels):
        need = f"({channels}, H, W)" if channels is not None else "(C, H, W)"
        raise RegionsError(f"expected {name} at {where} to receive a tensor shaped {need}, got shape {shape}")


def _add_layer(b: _Builder, where: str, kind: str, layer) -> None:
    torch = b.torch
    if kind in ("ReLU", "LeakyReLU"):
        raw = 0.0 if kind == "ReLU" else layer.negative_slope
        if isinstance(raw, bool) or not isinstance(raw, (int, float, np.integer, np.floating)):
            raise RegionsError(f"expected a numeric LeakyReLU negative_slope in [0, 1), got {raw!r} at {where}")
        slope = float(raw)
        if not (np.isfinite(slope) and 0.0 <= slope < 1.0):
            raise RegionsError(f"expected LeakyReLU slopes in [0, 1), got {slope} at {where}")
        b.activation(slope, where)
        return
    if kind in ("Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"):
        return
    if kind == "Linear":
        W, bias = _np(layer.weight), (None if layer.bias is None else _np(layer.bias))
        bias = np.zeros(W.shape[0]) if bias is None else bias
        b.set_start((W.shape[1],))
        shape = b.shape
        if shape[-1] != W.shape[1]:
            raise RegionsError(
                f"expected a tensor with last dimension {W.shape[1]} at the Linear layer {where}, got shape {shape}"
            )
        reps = int(np.prod(shape[:-1]))
        M = W if reps == 1 else np.kron(np.eye(reps), W)
        b.affine(M, np.tile(bias, reps), (*shape[:-1], W.shape[0]))
        return
    if kind in ("Flatten", "Unflatten"):
        shape = b.need_shape(where, kind)
        if kind == "Flatten" and layer.start_dim in (0, -len(shape) - 1):
            raise RegionsError(f"expected Flatten to keep the batch dimension (start_dim >= 1), got start_dim=0 at {where}")
        probe = torch.empty((1, *shape), device="meta")
        try:
            new = tuple(layer(probe).shape)
        except Exception as exc:  # noqa: BLE001 -- torch's own shape error, one sentence
            raise RegionsError(f"expected {kind} at {where} to accept shape {shape}, got: {exc}") from None
        if len(new) < 1 or new[0] != 1:
            raise RegionsError(f"expected {kind} at {where} to keep the batch dimension, got shape {new}")
        b.affine(None, np.zeros(int(np.prod(new[1:]))), new[1:])
        return
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        C = int(layer.num_features)
        if layer.running_mean is None or layer.running_var is None:
            raise RegionsError(
                f"expected {kind} at {where} to track running statistics (it uses batch statistics even "
                f"in eval mode), got track_running_stats=False"
            )
        b.set_start((C,))
        shape = b.shape
        ok = shape[0] == C and (len(shape) in (1, 2) if kind == "BatchNorm1d" else len(shape) == 3)
        if not ok:
            need = "(C,) or (C, L)" if kind == "BatchNorm1d" else "(C, H, W)"
            raise RegionsError(f"expected {kind} at {where} to receive a tensor shaped {need} with C={C}, got {shape}")
        mean, var = _np(layer.running_mean), _np(layer.running_var)
        scale = 1.0 / np.sqrt(var + float(layer.eps))
        shift = -mean * scale
        if layer.weight is not None:
            gamma = _np(layer.weight)
            scale, shift = scale * gamma, shift * gamma
        if layer.bias is not None:
            shift = shift + _np(layer.bias)
        rep = int(np.prod(shape[1:]))
        b.affine(np.diag(np.repeat(scale, rep)), np.repeat(shift, rep), shape)
        return
    if kind == "Conv2d":
        shape = b.need_shape(where, "Conv2d")
        _conv_shape_check(shape, where, "Conv2d", 3, int(layer.in_channels))
        conv = copy.deepcopy(layer).to(device="cpu", dtype=torch.float64)
        conv.bias = None
        try:
            M, new = _push(torch, conv, shape)
        except RuntimeError as exc:
            raise RegionsError(f"expected Conv2d at {where} to accept shape {shape}, got: {exc}") from None
        bias = np.zeros(new[0]) if layer.bias is None else _np(layer.bias)
        b.affine(M, np.repeat(bias, int(np.prod(new[1:]))), new)
        return
    if kind == "AvgPool2d":
        shape = b.need_shape(where, "AvgPool2d")
        _conv_shape_check(shape, where, "AvgPool2d", 3, None)
        try:
            M, new = _push(torch, layer, shape)
        except RuntimeError as exc:
            raise RegionsError(f"expected AvgPool2d at {where} to accept shape {shape}, got: {exc}") from None
        b.affine(M, np.zeros(M.shape[0]), new)
        return
    raise AssertionError(kind)  # pragma: no cover


def _as_shape(input_shape) -> tuple[int, ...] | None:
    if input_shape is None:
        return None
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise RegionsError(f"expected input_shape as a tuple of positive integers such as (1, 8, 8), got {input_shape!r}") from None
    if not shape or min(shape) < 1:
        raise RegionsError(f"expected input_shape as a tuple of positive integers such as (1, 8, 8), got {input_shape!r}")
    return shape


def _is_state_dict(obj) -> bool:
    torch = _torch()
    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    )


_PROVIDE = ("pass the module too (from_torch(module, state_dict=...), --weights of a saved whole module), "
            "or save an nn.Sequential of Linear layers and activations")


def _from_state_dict(sd: Mapping, slope: float | None) -> Network:
    """A Network from the state dict of an ``nn.Sequential`` of Linear layers with a stated activation.

    The keys must be those of such a Sequential (``0.weight``, ``2.weight``,
    ...; a Sequential nested in Sequentials: ``1.0.weight``): anything else
    (named sub-modules such as ``fc1`` or ``layers.0`` of a ModuleList or
    Sequential attribute of a custom module, residual blocks, norms, two
    Linear layers with nothing between them) is refused, never read as an MLP.
    """
    groups: dict[str, dict[str, Any]] = {}
    for key, value in sd.items():
        prefix, _, leaf = key.rpartition(".")
        if leaf not in ("weight", "bias"):
            raise RegionsError(
                f"expected only Linear weights and biases in a state dict given without its module, "
                f"got {key!r}; {_PROVIDE}"
            )
        _check_tensor(value, repr(key))
        groups.setdefault(prefix, {})[leaf] = value
    parents = set()
    indexed = []
    for prefix in groups:
        parent, _, last = prefix.rpartition(".")
        if not last.isdigit():
            raise RegionsError(
                f"expected the state dict of an nn.Sequential of Linear layers (keys such as 0.weight, "
                f"2.weight), got the named layer {prefix or '(top level)'!r}, which may be any model; {_PROVIDE}"
            )
        parents.add(parent)
        indexed.append((int(last), prefix))
    if len(parents) > 1:
        raise RegionsError(
            f"expected the Linear layers of one nn.Sequential, got layers under {sorted(parents)}; {_PROVIDE}"
        )
    (parent,) = parents  # a named attribute (layers.0.weight): its module's forward is not recorded
    if parent and not all(part.isdigit() for part in parent.split(".")):
        raise RegionsError(
            f"expected the state dict of an nn.Sequential itself (keys such as 0.weight, 2.weight), got its "
            f"layers under the named attribute {parent!r} of a module whose forward it does not record; "
            f"{_PROVIDE}"
        )
    indexed.sort()
    for (i, a), (j, b) in zip(indexed, indexed[1:]):
        if j == i + 1:
            raise RegionsError(
                f"expected an activation between consecutive Linear layers, got {a!r} and {b!r} with nothing "
                f"between them in the Sequential; {_PROVIDE}"
            )
    if slope is None:
        raise RegionsError(
            "expected the activation of this state dict, which does not record it: pass activation='relu' "
            "or 'leaky_relu:SLOPE' (on the command line --activation relu), got none"
        )
    layers = []
    for _, prefix in indexed:
        g = groups[prefix]
        name = prefix or "(top level)"
        if "weight" not in g or g["weight"].ndim != 2:
            got = "no weight" if "weight" not in g else f"a weight shaped {tuple(g['weight'].shape)}"
            raise RegionsError(
                f"expected a Linear layer (2-D weight) at {name!r} in a state dict given without its module, "
                f"got {got}; {_PROVIDE}"
            )
        W = _np(g["weight"], f"{name}.weight")
        bias = _np(g["bias"], f"{name}.bias") if "bias" in g else np.zeros(W.shape[0])
        if bias.shape != (W.shape[0],):
            raise RegionsError(f"expected a bias of {W.shape[0]} entries at {name!r}, got shape {bias.shape}")
        if layers and layers[-1][0].shape[0] != W.shape[1]:
            raise RegionsError(
                f"expected layer {name!r} to take the {layers[-1][0].shape[0]} outputs of the layer before, "
                f"got a weight shaped {tuple(W.shape)}; {_PROVIDE}"
            )
        layers.append((W, bias))
    return Network(layers, negative_slope=slope)


def _with_state(module, state_dict):
    """A copy of ``module`` with ``state_dict`` loaded (refused in one sentence when it does not fit)."""
    if not isinstance(state_dict, Mapping):
        raise RegionsError(f"expected state_dict to be a mapping of tensors, got {type(state_dict).__name__}")
    module = copy.deepcopy(module)
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as exc:
        detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:3])
        raise RegionsError(f"expected a state dict matching the module, got: {detail}") from None
    return module


# ------------------------------------------------------------- public API
def from_torch(
    module,
    input_shape: Sequence[int] | int | None = None,
    *,
    state_dict: Mapping | None = None,
    activation: str | float | None = None,
) -> Network:
    """The exact :class:`~regions.network.Network` of a PyTorch model.

    Parameters
    ----------
    module : torch.nn.Module or state dict
        An ``nn.Sequential`` (nested ones allowed) of the supported layers
        (see :mod:`regions.torch_import`), or a single such layer; or the
        state dict of an ``nn.Sequential`` of ``Linear`` layers, which then
        needs ``activation``.
    input_shape : tuple of int or int, optional
        Shape of one input without the batch dimension, e.g. ``(1, 8, 8)``;
        needed when the model starts with ``Conv2d``, ``AvgPool2d`` or
        ``Flatten``, otherwise read from the first layer.
    state_dict : mapping, optional
        Parameters to use instead of the module's own, loaded into a copy
        of ``module`` (the module itself is not changed).
    activation : str or float, optional
        For a bare state dict only, where it is required (a state dict does
        not record it): the activation after every layer but the last,
        ``"relu"``, ``"leaky_relu"`` (slope 0.01), ``"leaky_relu:SLOPE"``,
        or the slope as a number.

    Returns
    -------
    Network
        Consecutive affine layers merged into one, the activation between
        them; inputs are flattened in row-major (``torch.flatten``) order,
        and so are the outputs.

    Raises
    ------
    RegionsError
        For unsupported layers (named with their position), mixed slopes,
        shapes that do not fit, or when torch is not installed.

    Examples
    --------
    >>> import torch.nn as nn
    >>> net = from_torch(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)))
    >>> net.arch
    '2-8-1'
    """
    torch = _torch()
    nn = torch.nn
    shape = _as_shape(input_shape)
    if _is_state_dict(module):
        if state_dict is not None:
            raise RegionsError("expected a module with state_dict=..., got a state dict for both")
        net = _from_state_dict(module, None if activation is None else parse_activation(activation))
        if shape is not None and int(np.prod(shape)) != net.input_dim:
            raise RegionsError(f"expected input_shape with {net.input_dim} entries for this state dict, got {shape}")
        return net
    if not isinstance(module, nn.Module):
        raise RegionsError(
            f"expected a torch.nn.Module or a state dict of tensors, got {type(module).__name__}"
        )
    if state_dict is not None:
        module = _with_state(module, state_dict)
    leaves: list = []
    _leaves(module, "", leaves, nn)
    if not leaves:
        raise RegionsError("expected at least one layer in the model, got an empty nn.Sequential")
    b = _Builder(torch, shape)
    for pos, (name, layer) in enumerate(leaves):
        where = f"position {pos}" + (f" ({name!r})" if name else "")
        kind = _kind(layer, nn)
        if kind is None or kind == "Sequential":
            cls = type(layer).__name__
            hint = _HINTS.get(cls)
            if hint is None:
                base = next((n for n in SAFE_LAYERS[1:] if isinstance(layer, getattr(nn, n, ()))), None)
                hint = (f"it subclasses {base} with its own forward" if base else
                        f"supported: {', '.join(SAFE_LAYERS)}")
            raise RegionsError(f"expected only supported layers, got {cls} at {where}: {hint}")
        _add_layer(b, where, kind, layer)
    if b.shape is None:
        raise RegionsError("expected input_shape for a model without Linear or BatchNorm layers, got none")
    b.close()  # the last affine map (identity if the model ends with an activation)
    return Network(b.layers, negative_slope=b.slope or 0.0)


def _unwrap_checkpoint(obj, path: str):
    """A state dict (or module) from what ``torch.load`` returned."""
    torch = _torch()
    if isinstance(obj, torch.nn.Module) or _is_state_dict(obj):
        return obj
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict", "model", "net"):
            inner = obj.get(key)
            if isinstance(inner, torch.nn.Module) or _is_state_dict(inner):
                return inner
        raise RegionsError(
            f"expected a state dict, a module, or a checkpoint dict with a 'state_dict' or "
            f"'model_state_dict' entry in {path!r}, got a dict with keys {sorted(map(str, obj))[:8]}"
        )
    raise RegionsError(f"expected a state dict or a module in {path!r}, got {type(obj).__name__}")


def load_torch(
    path: str | os.PathLike,
    *,
    module=None,
    input_shape: Sequence[int] | int | None = None,
    activation: str | float | None = None,
) -> Network:
    """Read a ``torch.save`` file as an exact :class:`~regions.network.Network`.

    The file is read with ``torch.load(path, weights_only=True,
    map_location="cpu")``: tensors, plain containers and the supported
    ``torch.nn`` layer classes only, never arbitrary pickled code.

    Parameters
    ----------
    path : str or path-like
        A ``.pt``/``.pth`` file holding a state dict (also inside a
        checkpoint dict under ``"state_dict"``, ``"model_state_dict"``,
        ``"model"`` or ``"net"``), or a whole module saved with
        ``torch.save(model, path)`` built from the supported layers.
    module : torch.nn.Module, optional
        The architecture for a state dict (loaded into a copy of it).
        Without it a state dict must be that of an ``nn.Sequential`` of
        ``Linear`` layers, with ``activation`` (required) between them.
    input_shape, activation
        As in :func:`from_torch`.

    Returns
    -------
    Network
    """
    torch = _torch()
    p = Path(path)
    if not p.is_file():
        raise RegionsError(f"expected an existing torch file (.pt/.pth), got {str(path)!r}")
    ser = torch.serialization
    classes = [getattr(torch.nn, n) for n in SAFE_LAYERS if hasattr(torch.nn, n)]
    try:
        if hasattr(ser, "safe_globals"):
            with ser.safe_globals(classes):
                obj = torch.load(p, weights_only=True, map_location="cpu")
        else:  # pragma: no cover - torch < 2.5: state dicts only
            obj = torch.load(p, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is one sentence
        unsafe: list[str] = []
        try:
            unsafe = [u for u in ser.get_unsafe_globals_in_checkpoint(str(p))
                      if u.rsplit(".", 1)[-1] not in SAFE_LAYERS]
        except Exception:  # noqa: BLE001 -- not a zip checkpoint: no list to give
            pass
        if unsafe or "unsupported global" in str(exc).lower():
            needs = f" (it needs {', '.join(unsafe[:4])})" if unsafe else ""
            raise RegionsError(
                f"expected a state dict or a module of supported layers in {str(path)!r}, got a file that "
                f"torch.load(weights_only=True) refuses{needs}; save model.state_dict() instead"
            ) from None
        raise RegionsError(
            f"expected a file written by torch.save, got an unreadable {str(path)!r} ({type(exc).__name__}); "
            f"files are read with torch.load(weights_only=True) only"
        ) from None
    obj = _unwrap_checkpoint(obj, str(path))
    if module is not None:
        if not _is_state_dict(obj):
            raise RegionsError(f"expected a state dict in {str(path)!r} to go with module=..., got a whole module")
        return from_torch(module, input_shape, state_dict=obj)
    return from_torch(obj, input_shape, activation=activation)


def max_deviation(module, net: Network, input_shape: Sequence[int] | int | None = None, *,
                  n: int = 64, seed: int = 0, scale: float = 1.0) -> float:
    """Largest difference between ``module`` (eval mode, float64) and ``net`` on random inputs.

    Parameters
    ----------
    module : torch.nn.Module
        The model (a float64 copy in eval mode is run; the module is not changed).
    net : Network
        Its import.
    input_shape : tuple of int, optional
        Shape of one input; default ``(net.input_dim,)``.
    n, seed, scale
        ``n`` inputs drawn from ``N(0, scale^2)`` with ``np.random.default_rng(seed)``.

    Returns
    -------
    float
        ``max |module(x) - net(x)|`` relative to ``max(1, max |module(x)|)``.
    """
    torch = _torch()
    shape = _as_shape(input_shape) or (net.input_dim,)
    X = np.random.default_rng(seed).normal(0.0, scale, size=(n, int(np.prod(shape))))
    m = copy.deepcopy(module).to(device="cpu", dtype=torch.float64).eval()
    with torch.no_grad():
        ref = m(torch.from_numpy(X.reshape(n, *shape))).reshape(n, -1).numpy()
    got = net(X)
    if ref.shape != got.shape:
        raise RegionsError(f"expected outputs shaped {ref.shape} from the import, got {got.shape}")
    return float(np.max(np.abs(ref - got)) / max(1.0, float(np.max(np.abs(ref)))))
