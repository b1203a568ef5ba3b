"""Any ``torch.nn.Module`` traceable with ``torch.fx`` as an op :class:`~regions.model.ops.Graph`.

:func:`graph_from_torch` traces the module symbolically and turns every node
into operations on the flattened (row-major) tensor: affine leaves
(``Linear``, ``Conv1d``/``Conv2d``, ``BatchNorm`` in eval mode, ``AvgPool``,
``AdaptiveAvgPool``, ``view``/``reshape``/``flatten``) become exact dense
:class:`~regions.model.ops.Affine` maps (the identity basis pushed through
the layer in float64); ``Dropout`` and ``Identity`` vanish; ``ReLU``,
``LeakyReLU``, ``PReLU``, ``ReLU6``, ``Hardtanh`` (modules or functions),
``MaxPool1d``/``MaxPool2d``, ``+`` and ``torch.cat`` map to their ops.
Anything else is refused with the node's name, its op and where it is.
"""

from __future__ import annotations

import copy
import operator

import numpy as np

from ..errors import RegionsError
from ..model.ops import Activation, Add, Affine, Clamp, Concat, Graph, MaxGroups, Node

__all__ = ["graph_from_torch"]

#: Most entries of one dense affine map built from a layer (512 MiB of float64).
MAX_DENSE_ENTRIES = 1 << 26


def _push(torch, fn, shape):
    """``(M, c, out_shape)`` of an affine ``fn`` on tensors shaped ``shape`` (no batch)."""
    n = int(np.prod(shape))
    with torch.no_grad():
        zero = fn(torch.zeros((1, *shape), dtype=torch.float64))
        out_shape = tuple(zero.shape[1:])
        c = zero.reshape(-1).numpy().copy()
        m = c.shape[0]
        if n * m > MAX_DENSE_ENTRIES:
            raise RegionsError(f"expected an affine layer of at most {MAX_DENSE_ENTRIES} entries, got {m} x {n}")
        basis = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
        M = (fn(basis).reshape(n, m).numpy() - c).T.copy()
    return M, c, out_shape


_AFFINE_MODULES = ("Linear", "Conv1d", "Conv2d", "BatchNorm1d", "BatchNorm2d", "AvgPool1d", "AvgPool2d",
                   "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Flatten", "Unflatten")
_VANISH = ("Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout")


def graph_from_torch(module, input_shape) -> Graph:
    """The op graph of ``module`` (eval mode, float64) for inputs shaped ``input_shape`` (no batch).

    Raises
    ------
    RegionsError
        When the module cannot be traced, or a node is not supported (its
        name, op and target are quoted).
    """
    import torch  # noqa: PLC0415 -- optional dependency
    import torch.fx  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415

    nn = torch.nn
    shape = (int(input_shape),) if np.ndim(input_shape) == 0 else tuple(int(s) for s in input_shape)
    model = copy.deepcopy(module).to(device="cpu", dtype=torch.float64).eval()
    try:
        gm = torch.fx.symbolic_trace(model)
    except Exception as exc:  # noqa: BLE001 -- torch's own reason, one sentence
        raise RegionsError(f"expected a module traceable with torch.fx, got {type(module).__name__}: "
                           f"{str(exc).splitlines()[0]}") from None
    mods = dict(gm.named_modules())
    nodes: list = []
    val: dict = {}  # fx node -> (graph node index, shape)

    def add(op, inputs, name):
        nodes.append(Node(op, tuple(inputs), name))
        return len(nodes)

    def where(n):
        return f"node {n.name!r} ({n.op} {n.target if isinstance(n.target, str) else getattr(n.target, '__name__', n.target)})"

    def refuse(n, why):
        raise RegionsError(f"expected only piecewise-linear operations, got {where(n)}: {why}")

    def affine(n, fn, src):
        idx, shp = src
        try:
            M, c, out = _push(torch, fn, shp)
        except RuntimeError as exc:
            refuse(n, f"it does not accept a tensor shaped {shp} ({str(exc).splitlines()[0]})")
        return add(Affine(M, c, n_params=0), [idx], n.name), out

    def activation_of(n, kind, args, kwargs, mod=None):
        idx, shp = val[args[0]]
        size = int(np.prod(shp))
        if kind == "relu":
            return add(Activation.relu(), [idx], n.name), shp
        if kind == "leaky_relu":
            slope = mod.negative_slope if mod is not None else (args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01))
            return add(Activation.leaky_relu(float(slope)), [idx], n.name), shp
        if kind == "prelu":
            w = mod.weight.detach().double().numpy().reshape(-1)
            per = np.repeat(w, size // shp[0]) if w.size > 1 else np.full(size, w[0])
            return add(Activation.prelu(per, n_params=w.size), [idx], n.name), shp
        if kind == "hardtanh":
            lo = mod.min_val if mod is not None else (args[1] if len(args) > 1 else kwargs.get("min_val", -1.0))
            hi = mod.max_val if mod is not None else (args[2] if len(args) > 2 else kwargs.get("max_val", 1.0))
            return add(Clamp(float(lo), float(hi)), [idx], n.name), shp
        if kind == "relu6":
            return add(Clamp(0.0, 6.0), [idx], n.name), shp
        raise AssertionError(kind)  # pragma: no cover

    def maxpool(n, src, kernel, stride, padding, dilation, ceil_mode):
        idx, shp = src
        if len(shp) not in (2, 3):
            refuse(n, f"max pooling of a tensor shaped {shp}, expected (C, L) or (C, H, W)")
        op, out = MaxGroups.pool(shp, kernel, stride or None, padding, dilation, ceil_mode)
        return add(op, [idx], n.name), out

    fn_kinds = {F.relu: "relu", torch.relu: "relu", F.leaky_relu: "leaky_relu", F.hardtanh: "hardtanh",
                F.relu6: "relu6"}
    mod_kinds = {nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.PReLU: "prelu", nn.ReLU6: "relu6",
                 nn.Hardtanh: "hardtanh"}
    out_idx = None
    for n in gm.graph.nodes:
        args = n.args
        if n.op == "placeholder":
            if val:
                refuse(n, "a second input; only one-input models are supported")
            val[n] = (0, shape)
        elif n.op == "output":
            res = args[0]
            if res not in val:
                refuse(n, "an output that is not one tensor")
            out_idx = val[res]
        elif n.op == "call_module":
            mod = mods[n.target]
            cls = type(mod)
            kind = next((k for c, k in mod_kinds.items() if cls is c), None)
            if kind is not None:
                val[n] = activation_of(n, kind, args, n.kwargs, mod)
            elif cls.__name__ in _VANISH and cls is getattr(nn, cls.__name__):
                val[n] = val[args[0]]
            elif cls.__name__ in _AFFINE_MODULES and cls is getattr(nn, cls.__name__):
                idx, out = affine(n, mod, val[args[0]])
                nodes[-1] = Node(Affine(nodes[-1].op.W, nodes[-1].op.b,
                                        n_params=sum(p.numel() for p in mod.parameters())), nodes[-1].inputs, n.name)
                val[n] = (idx, out)
            elif cls in (nn.MaxPool1d, nn.MaxPool2d):
                if mod.return_indices:
                    refuse(n, "max pooling that returns indices")
                val[n] = maxpool(n, val[args[0]], mod.kernel_size, mod.stride, mod.padding, mod.dilation,
                                 mod.ceil_mode)
            else:
                refuse(n, f"module {cls.__name__} is not supported")
        elif n.op == "call_function":
            t = n.target
            if t in fn_kinds:
                val[n] = activation_of(n, fn_kinds[t], args, n.kwargs)
            elif t in (operator.add, torch.add) and all(a in val for a in args[:2]) and len(args) == 2:
                (i, s1), (j, s2) = val[args[0]], val[args[1]]
                if s1 != s2:
                    refuse(n, f"addition of shapes {s1} and {s2} (no broadcasting)")
                val[n] = (add(Add(), [i, j], n.name), s1)
            elif t in (torch.cat, torch.concat):
                parts = args[0]
                dim = args[1] if len(args) > 1 else n.kwargs.get("dim", 0)
                shapes = [val[p][1] for p in parts]
                nd = len(shapes[0]) + 1
                if dim % nd != 1:
                    refuse(n, f"concatenation along dim {dim}; only the first non-batch dimension is supported")
                val[n] = (add(Concat(), [val[p][0] for p in parts], n.name),
                          (sum(s[0] for s in shapes), *shapes[0][1:]))
            elif t in (F.max_pool1d, F.max_pool2d):
                kw = dict(n.kwargs)
                names = ["kernel_size", "stride", "padding", "dilation", "ceil_mode"]
                for k_, v in zip(names, args[1:]):
                    kw[k_] = v
                if kw.get("return_indices"):
                    refuse(n, "max pooling that returns indices")
                val[n] = maxpool(n, val[args[0]], kw["kernel_size"], kw.get("stride"), kw.get("padding", 0),
                                 kw.get("dilation", 1), kw.get("ceil_mode", False))
            elif t in (torch.flatten, torch.reshape, F.dropout) or t in (F.avg_pool1d, F.avg_pool2d,
                                                                          F.adaptive_avg_pool2d, F.adaptive_avg_pool1d):
                if t is F.dropout:
                    val[n] = val[args[0]]
                    continue
                rest, kwargs = args[1:], n.kwargs
                val[n] = affine(n, lambda x: t(x, *rest, **kwargs), val[args[0]])
            else:
                refuse(n, "this function is not supported")
        elif n.op == "call_method":
            if n.target in ("view", "reshape", "flatten") and args[0] in val:
                rest = args[1:]
                if any(not isinstance(a, int) for a in rest):
                    refuse(n, "a shape computed at run time (use constants or -1)")
                val[n] = affine(n, lambda x, m=n.target: getattr(x, m)(*rest), val[args[0]])
            elif n.target == "relu":
                val[n] = activation_of(n, "relu", args, n.kwargs)
            else:
                refuse(n, f"tensor method {n.target!r} is not supported")
        else:  # get_attr and anything else
            refuse(n, "parameters used outside a supported layer")
    if out_idx is None:  # pragma: no cover
        raise RegionsError("expected a traced module with an output, got none")
    idx, _ = out_idx
    if idx != len(nodes):
        nodes.append(Node(Affine(np.eye(int(np.prod(out_idx[1]))), n_params=0), (idx,), "output"))
    if not nodes:
        nodes.append(Node(Affine(np.eye(int(np.prod(shape))), n_params=0), (0,), "identity"))
    g = Graph(nodes, int(np.prod(shape)))
    n_mod = sum(p.numel() for p in module.parameters())
    if g.n_params != n_mod:
        raise RegionsError(f"expected every parameter of the module to be used by a supported layer, "
                           f"got {g.n_params} of {n_mod} accounted for")
    return g
