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
from .pytorch import _as_shape, _is_state_dict, _with_state
from .pytorch import from_torch as plain

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


def _max_over_dim(shape, dim, keepdim=False):
    """MaxGroups of a max over one non-batch dimension (``dim`` counts the batch) of a tensor ``shape``."""
    nd = len(shape) + 1
    if not isinstance(dim, int) or dim % nd == 0:
        raise RegionsError(f"expected a max over a non-batch dimension, got dim={dim!r}")
    ax = dim % nd - 1
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    groups = np.moveaxis(idx, ax, -1).reshape(-1, shape[ax])
    out = tuple(s for i, s in enumerate(shape) if i != ax)
    if keepdim:
        out = tuple(1 if i == ax else s for i, s in enumerate(shape))
    return MaxGroups(groups), out or (1,)


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

    tup: dict = {}  # fx node of a (values, indices) max -> its values

    def max_dim(n, args, kwargs, pair):
        idx, shp = val[args[0]]
        dim = args[1] if len(args) > 1 else kwargs["dim"]
        keep = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
        if isinstance(dim, (tuple, list)):
            if len(dim) != 1:
                refuse(n, f"a max over several dimensions {dim}")
            dim = dim[0]
        try:
            op, out = _max_over_dim(shp, dim, keep)
        except RegionsError as exc:
            refuse(n, str(exc))
        res = (add(op, [idx], n.name), out)
        if pair:  # (values, indices): read through getitem / .values
            tup[n] = res
            return None
        return res

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
            elif t in (torch.max, torch.amax) and args[0] in val and (len(args) > 1 or "dim" in n.kwargs):
                res = max_dim(n, args, n.kwargs, t is torch.max)
                if res is not None:
                    val[n] = res
            elif t in (operator.getitem, getattr) and args[0] in tup:
                if args[1] not in (0, "values"):
                    refuse(n, "the indices of a max; only its values are supported")
                val[n] = tup[args[0]]
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
            elif n.target in ("max", "amax") and args[0] in val and (len(args) > 1 or "dim" in n.kwargs):
                res = max_dim(n, args, n.kwargs, n.target == "max")
                if res is not None:
                    val[n] = res
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


def _first_linear_shape(module, nn) -> tuple[int, ...] | None:
    lin = next((m for m in module.modules() if isinstance(m, nn.Linear)), None)
    return None if lin is None else (int(lin.in_features),)


def from_torch_any(module, input_shape=None, *, state_dict=None, activation=None):
    """A :class:`~regions.model.network.Network` or an op :class:`~regions.model.ops.Graph` of ``module``.

    A plain chain (``nn.Sequential`` of supported layers with one activation
    slope) gives a ``Network`` (:func:`regions.interop.pytorch.from_torch`);
    any other ``nn.Module`` traceable with ``torch.fx`` (hand-written
    ``forward``, residual blocks, max pooling, per-layer slopes) gives a
    ``Graph`` (:func:`graph_from_torch`); an ``ExportedProgram`` (from
    ``torch.export``) gives a ``Graph`` (:func:`graph_from_program`).  State
    dicts follow :func:`regions.interop.pytorch.from_torch` (plain Linear
    chains only, with the stated ``activation``).  Both results work with
    :func:`regions.count` and :func:`regions.partition`.

    ``input_shape`` (no batch dimension) is needed unless the module
    contains a ``Linear`` layer; then the first one's ``in_features`` is
    used, and the trace checks every shape it meets.
    """
    import torch  # noqa: PLC0415

    nn = torch.nn
    if isinstance(module, torch.export.ExportedProgram):
        return graph_from_program(module, input_shape)
    if not isinstance(module, nn.Module) or _is_state_dict(module):
        return plain(module, input_shape, state_dict=state_dict, activation=activation)
    if state_dict is not None:
        module = _with_state(module, state_dict)
    try:
        return plain(module, input_shape, activation=activation)
    except RegionsError:
        pass  # not a plain chain: trace it
    shape = _as_shape(input_shape) or _first_linear_shape(module, nn)
    if shape is None:
        raise RegionsError(f"expected input_shape (one input without the batch dimension) for "
                           f"{type(module).__name__}, which has no Linear layer to read it from, got none")
    return graph_from_torch(module, shape)


def load_program(path) -> Graph:
    """The op :class:`~regions.model.ops.Graph` of a ``torch.export.save`` file (``.pt2``).

    Read with ``torch.export.load`` (no arbitrary unpickling); the program's
    input shape is its example input's, without the batch dimension.
    """
    import os  # noqa: PLC0415

    import torch  # noqa: PLC0415

    if not os.path.isfile(path):
        raise RegionsError(f"expected an existing .pt2 file written by torch.export.save, got {str(path)!r}")
    import logging  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    log = logging.getLogger("torch.export")  # torch logs a traceback of a bad archive before raising
    level = log.level
    try:
        log.setLevel(logging.CRITICAL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ep = torch.export.load(path)
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is one sentence
        raise RegionsError(f"expected a program written by torch.export.save, got an unreadable "
                           f"{str(path)!r} ({type(exc).__name__})") from None
    finally:
        log.setLevel(level)
    return graph_from_program(ep)


def graph_from_program(ep, input_shape=None) -> Graph:
    """The op :class:`~regions.model.ops.Graph` of a ``torch.export.ExportedProgram``.

    The program is run as a module (``ep.module()``) and traced like a
    hand-written module; ``input_shape`` defaults to the shape of the
    program's one input without its first (batch) dimension.
    """
    specs = [s for s in ep.graph_signature.input_specs if s.kind.name == "USER_INPUT"]
    if len(specs) != 1:
        raise RegionsError(f"expected a program with one input, got {len(specs)}")
    if input_shape is None:
        node = next(n for n in ep.graph.nodes if n.op == "placeholder" and n.name == specs[0].arg.name)
        meta = node.meta.get("val")
        if meta is None or len(meta.shape) < 2:
            raise RegionsError(f"expected a program whose input has a batch dimension, got "
                               f"{None if meta is None else tuple(meta.shape)}")
        input_shape = tuple(int(s) for s in meta.shape[1:])
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = ep.module()
    return graph_from_aten(gm, input_shape)


#: ATen ops applied to one state tensor (other tensor arguments constant): affine maps.
_ATEN_AFFINE = {"linear", "conv1d", "conv2d", "convolution", "flatten", "avg_pool1d", "avg_pool2d",
                "adaptive_avg_pool1d", "adaptive_avg_pool2d", "_adaptive_avg_pool2d", "addmm", "mm",
                "mul", "div", "sub", "add", "clone", "contiguous", "alias", "unflatten", "_native_batch_norm_legit_no_training"}
_ATEN_RESHAPE = {"view", "reshape", "_unsafe_view"}
_ATEN_VANISH = {"dropout", "detach", "_assert_tensor_metadata"}


def _aten(t) -> str | None:
    pk = getattr(t, "overloadpacket", None)
    return None if pk is None else str(getattr(pk, "__name__", pk)).split(".")[-1]


def graph_from_aten(gm, input_shape) -> Graph:
    """The op graph of a ``GraphModule`` of ATen calls (``ExportedProgram.module()``), inputs ``input_shape``.

    Refusals name the node, its op and where it is, as for :func:`graph_from_torch`.
    """
    import torch  # noqa: PLC0415

    import warnings  # noqa: PLC0415

    shape = (int(input_shape),) if np.ndim(input_shape) == 0 else tuple(int(s) for s in input_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecation notes on copying programs
        gm = copy.deepcopy(gm).to(dtype=torch.float64)
    nodes: list = []
    val: dict = {}
    const: dict = {}
    tup: dict = {}
    params = {id(p) for p in gm.parameters()}
    pcount: dict = {}

    def add(op, inputs, name):
        nodes.append(Node(op, tuple(inputs), name))
        return len(nodes)

    def refuse(n, why):
        raise RegionsError(f"expected only piecewise-linear operations, got node {n.name!r} "
                           f"(call_function {n.target}): {why}")

    def sub(a, x_node, x):
        if a is x_node:
            return x
        if isinstance(a, torch.fx.Node):
            return const[a]
        if isinstance(a, (list, tuple)):
            return type(a)(sub(v, x_node, x) for v in a)
        return a

    out = None
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            if val:
                refuse(n, "a second input; only one-input programs are supported")
            val[n] = (0, shape)
        elif n.op == "get_attr":
            obj = gm
            for part in str(n.target).split("."):
                obj = getattr(obj, part)
            const[n] = obj.detach().to(torch.float64) if isinstance(obj, torch.Tensor) else obj
            pcount[n] = int(obj.numel()) if id(obj) in params else 0
        elif n.op == "call_module" and not n.users:
            continue  # guards
        elif n.op == "output":
            res = n.args[0]
            if isinstance(res, (tuple, list)):
                if len(res) != 1:
                    refuse(n, f"{len(res)} outputs; only one is supported")
                res = res[0]
            if res not in val:
                refuse(n, "an output that is not a computed tensor")
            out = val[res]
        elif n.op == "call_function":
            t, args, kw = n.target, n.args, dict(n.kwargs)
            name = _aten(t)
            if t is operator.getitem:
                src, i = args
                if src not in tup:
                    refuse(n, "indexing of something other than a tuple of tensors")
                if i != 0:
                    continue  # batch-norm statistics, pooling indices: unused by the output
                val[n] = tup[src]
                continue
            if name == "sym_size" and args and args[0] in val:  # a dynamic batch: x.shape[0] in a view
                shp = val[args[0]][1]
                dim = int(args[1]) % (len(shp) + 1)
                const[n] = _BATCH if dim == 0 else int(shp[dim - 1])
                continue
            states = [a for a in args if isinstance(a, torch.fx.Node) and a in val]
            if name in _ATEN_VANISH:
                if states:
                    val[n] = val[states[0]]
                continue
            if name in ("relu", "leaky_relu", "hardtanh", "relu6", "prelu", "_prelu_kernel"):
                idx, shp = val[args[0]]
                if name == "relu":
                    op = Activation.relu()
                elif name == "leaky_relu":
                    op = Activation.leaky_relu(float(args[1] if len(args) > 1 else kw.get("negative_slope", 0.01)))
                elif name == "relu6":
                    op = Clamp(0.0, 6.0)
                elif name == "hardtanh":
                    op = Clamp(float(args[1] if len(args) > 1 else -1.0), float(args[2] if len(args) > 2 else 1.0))
                else:
                    w = const[args[1]].numpy().reshape(-1)
                    size = int(np.prod(shp))
                    op = Activation.prelu(np.repeat(w, size // shp[0]) if w.size > 1 else np.full(size, w[0]),
                                          n_params=w.size)
                val[n] = (add(op, [idx], n.name), shp)
            elif name in ("max_pool1d", "max_pool2d", "max_pool2d_with_indices", "max_pool1d_with_indices"):
                idx, shp = val[args[0]]
                names = ["kernel_size", "stride", "padding", "dilation", "ceil_mode"]
                for k_, v in zip(names, args[1:]):
                    kw[k_] = v
                if len(shp) not in (2, 3):
                    refuse(n, f"max pooling of a tensor shaped {shp}, expected (C, L) or (C, H, W)")
                op, o = MaxGroups.pool(shp, kw["kernel_size"], kw.get("stride") or None, kw.get("padding", 0),
                                       kw.get("dilation", 1), kw.get("ceil_mode", False))
                res = (add(op, [idx], n.name), o)
                if "with_indices" in name:
                    tup[n] = res
                else:
                    val[n] = res
            elif name in ("max", "amax") and args[0] in val and len(args) > 1:
                idx, shp = val[args[0]]
                dim = args[1][0] if isinstance(args[1], (list, tuple)) and len(args[1]) == 1 else args[1]
                keep = args[2] if len(args) > 2 else kw.get("keepdim", False)
                try:
                    op, o = _max_over_dim(shp, dim, keep)
                except RegionsError as exc:
                    refuse(n, str(exc))
                res = (add(op, [idx], n.name), o)
                if name == "max":
                    tup[n] = res
                else:
                    val[n] = res
            elif name == "add" and len(states) == 2 and len(args) == 2 and "alpha" not in kw:
                (i, s1), (j, s2) = val[args[0]], val[args[1]]
                if s1 != s2:
                    refuse(n, f"addition of shapes {s1} and {s2} (no broadcasting)")
                val[n] = (add(Add(), [i, j], n.name), s1)
            elif name in ("cat", "concat"):
                parts = args[0]
                dim = args[1] if len(args) > 1 else kw.get("dim", 0)
                if any(p not in val for p in parts):
                    refuse(n, "concatenation with a constant tensor")
                shapes = [val[p][1] for p in parts]
                if dim % (len(shapes[0]) + 1) != 1:
                    refuse(n, f"concatenation along dim {dim}; only the first non-batch dimension is supported")
                val[n] = (add(Concat(), [val[p][0] for p in parts], n.name), (sum(s[0] for s in shapes), *shapes[0][1:]))
            elif (name in _ATEN_AFFINE or name in _ATEN_RESHAPE
                  or (name == "batch_norm" and len(args) > 5 and args[5] is False)) and len(states) == 1 and args and args[0] is states[0]:
                x_node = states[0]
                idx, shp = val[x_node]
                if name in _ATEN_RESHAPE:
                    tail = [int(const[v] if isinstance(v, torch.fx.Node) else v) for v in args[1][1:]]
                    fn = lambda x, tail=tail: x.reshape(x.shape[0], *tail)  # noqa: E731
                else:
                    fn = lambda x, t=t, a=args, k=kw, xn=x_node: t(*sub(a, xn, x), **{q: sub(v, xn, x) for q, v in k.items()})  # noqa: E731
                f1 = (lambda x: fn(x)[0]) if name in _TUPLE_OUT else fn  # noqa: E731
                try:
                    M, c, o = _push(torch, f1, shp)
                    # the map must act on each sample alone (no op mixing the batch)
                    x3 = torch.from_numpy(np.random.default_rng(0).normal(size=(3, *shp)))
                    y3 = f1(x3).reshape(3, -1).numpy()
                except (RuntimeError, KeyError, TypeError, IndexError) as exc:
                    refuse(n, f"it does not accept a tensor shaped {shp} ({str(exc).splitlines()[0]})")
                ref3 = x3.reshape(3, -1).numpy() @ M.T + c
                if y3.shape != ref3.shape or np.abs(y3 - ref3).max() > 1e-9 * (1 + np.abs(ref3).max()):
                    refuse(n, "it is not an affine map of each sample alone")
                n_p = sum(pcount.get(a, 0) for a in args[1:] if isinstance(a, torch.fx.Node))
                res = (add(Affine(M, c, n_params=n_p), [idx], n.name), o)
                if name in _TUPLE_OUT:
                    tup[n] = res
                else:
                    val[n] = res
            else:
                refuse(n, "this operation is not supported" if name else "this function is not supported")
        else:
            refuse(n, "an unsupported node kind")
    if out is None:
        raise RegionsError("expected a program with an output, got none")
    idx, shp = out
    if idx != len(nodes) or not nodes:
        nodes.append(Node(Affine(np.eye(int(np.prod(shp))), n_params=0), (idx,), "output"))
    return Graph(nodes, int(np.prod(shape)))


_TUPLE_OUT = {"_native_batch_norm_legit_no_training"}

#: The value of ``x.shape[0]`` in a program exported with a dynamic batch (``torch.export.Dim``):
#: a view or reshape keeps the batch dimension whatever is written there; anywhere else it is refused.
_BATCH = object()
