"""The ONNX Runtime baseline, forward pass only, when ``onnxruntime`` and
``onnx`` import (ORT has no convolution backward, so its bwd cells stay
empty).

ONNX Runtime runs a one-node ``Conv`` model (opset ``ORT_OPSET``) built in
memory with ``onnx.helper``: input ``x`` NCHW, the weight (OIHW) and bias as
initializers, as in an exported model (so ORT may pre-pack the weight when
the session is created, which cconv and torch cannot), pads ``[top, left,
bottom, right]``, strides, dilations and group from the layer. The session
has ``intra_op_num_threads`` = the benchmark's thread count,
``inter_op_num_threads=1``, sequential execution and ``CPUExecutionProvider``.
The input is converted from NHWC to NCHW once per layer, outside the timed
call; the output is converted back only for the check, which compares ORT's
output with the oracle as well (the ``check`` column flags ``ort MISMATCH``).
One tiny session is built and run at start-up (``ort_problem``): if that
fails (a broken install, or float64, which ORT's CPU Conv does not
implement) ORT is skipped and the header says why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .impl import Impl
from .inputs import Inputs, make_inputs
from .suite import Layer

#: Opset of the ORT baseline's one-node model (Conv is unchanged since opset 11).
ORT_OPSET = 17

#: Pause after ORT before another implementation runs: ORT's intra-op worker
#: spins after a run before it sleeps (measured ~50 ms of CPU time on 2 cores).
SETTLE_ORT_S = 0.1


@dataclass(frozen=True)
class OrtModules:
    """The ``onnxruntime`` and ``onnx`` modules, which the ORT baseline needs together."""

    ort: Any
    onnx: Any

    @property
    def version(self) -> str:
        """onnxruntime's version string."""
        return str(self.ort.__version__)


def import_onnxruntime(enabled: bool) -> OrtModules | None:
    """Return onnxruntime and onnx, or None if disabled or either is not importable."""
    if not enabled:
        return None
    try:
        import onnx
        import onnxruntime
    except Exception:  # ImportError, or a broken install raising OSError and the like
        return None
    return OrtModules(ort=onnxruntime, onnx=onnx)


def ort_problem(mods: OrtModules, dtype: str) -> str | None:
    """Why ORT cannot run a convolution of ``dtype`` here (None if it can): one
    tiny session is built and run, so that a broken install or an unsupported
    dtype (ORT's CPU Conv has no float64) is reported once, not per layer."""
    try:
        layer = Layer.make("probe", N=1, H=4, W=4, C=2, O=2, kernel=3, padding=1)
        impl = ort_impl(mods, layer, make_inputs(layer, dtype), "NHWC", threads=1)
        impl.forward()
    except Exception as exc:
        message = " ".join(str(exc).split())
        return f"{type(exc).__name__}: {message[:160]}"
    return None


def ort_impl(mods: OrtModules, layer: Layer, inputs: Inputs, layout: str, threads: int) -> Impl:
    """Bind an ONNX Runtime session of a one-node ``Conv`` model (forward only).

    The model is built in memory with ``onnx.helper`` (see the module
    docstring). ``inputs`` must be in NHWC/HWIO order; ``x`` is converted to
    NCHW here, once, outside the timed call; ``layout`` is the order that
    ``to_numpy`` converts the result to.
    """
    ort, onnx = mods.ort, mods.onnx
    helper = onnx.helper
    g = layer.geometry
    if layer.rank == 3:  # a 3-D Conv node: x (N, C, D, H, W), weight (O, C//groups, KD, KH, KW)
        x, w = inputs.x.transpose(0, 4, 1, 2, 3), inputs.weight.transpose(4, 3, 0, 1, 2)
        attrs = dict(kernel_shape=[g.KD, g.KH, g.KW], strides=[g.sd, g.sh, g.sw],
                     pads=[g.pf, g.pt, g.pl, g.pbk, g.pb, g.pr], dilations=[g.dd, g.dh, g.dw])
    else:
        x = np.ascontiguousarray(inputs.x.transpose(0, 3, 1, 2))
        w = np.ascontiguousarray(inputs.weight.transpose(3, 2, 0, 1))
    if layer.rank == 1:  # a 1-D Conv node: x (N, C, W), weight (O, C//groups, KW)
        x, w = x[:, :, 0], w[:, :, 0]
        attrs = dict(kernel_shape=[g.KW], strides=[g.sw], pads=[g.pl, g.pr], dilations=[g.dw])
    elif layer.rank == 2:
        attrs = dict(kernel_shape=list(layer.kernel), strides=list(layer.stride), pads=[g.pt, g.pl, g.pb, g.pr],
                     dilations=list(layer.dilation))
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], group=g.groups, **attrs)
    graph = helper.make_graph(
        [node], "cconv_bench_conv",
        [helper.make_tensor_value_info("x", elem, list(x.shape))],
        [helper.make_tensor_value_info("y", elem, list(g.output_shape(layer.call_layout("NCHW"))))],
        initializer=[onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(inputs.bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ORT_OPSET)],
                              producer_name="cconv.bench")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    feeds = {"x": x}

    def forward() -> Any:
        return session.run(["y"], feeds)[0]

    def to_numpy(result: Any) -> Any:
        if layout == "NCHW":
            return result
        return result.transpose(0, *range(2, result.ndim), 1)   # channels last

    return Impl(name="ort", forward=forward, backward=None, to_numpy=to_numpy,
                settle_s=SETTLE_ORT_S if threads > 1 else 0.0)
