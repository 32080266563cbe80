"""Fuzzing every public function against ``cconv.reference``.

Hypothesis draws shapes (including 0 and 1 sizes, and unbatched input without
the N axis), parameters (valid and
invalid: zero or negative strides, bad padding forms and strings, groups that
do not divide, channel mismatches, kernels larger than the padded input, bad
layouts and thread counts), dtypes (float16/32/64, ints, bool, complex) and
memory layouts (C order, Fortran order, strided and transposed views,
read-only arrays). For each drawn case, every entry of ``TARGETS`` is called
on cconv and on ``cconv.reference``:

* if the reference raises ValueError/TypeError, cconv must raise the same
  exception type (the reference arbitrates validity);
* otherwise cconv must return results of the reference's shapes and dtypes
  that agree within a dtype-scaled tolerance, finite where the inputs are;
* the inputs are never modified.

A crash would kill the test process; a hang would blow the run's time limit.

The 1-D functions run on the same drawn cases read as 1-D ones (``_case_1d``:
the H axis dropped, the W entry of each per-axis parameter kept, and "causal"
drawn among the paddings).

Adding a function is one entry in ``TARGETS``: a function
``(module, case) -> result`` that calls the function of that name on
``module`` (cconv or cconv.reference). A cconv-only keyword to sweep (such as
an ``algorithm=`` choice) is one entry in ``EXTRA_KEYWORDS``.

Run longer with ``python -m pytest tests/test_fuzz.py --hypothesis-profile=long``.
The number of cases run is printed at the end of the session.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import cconv
import cconv.reference as ref
from conftest import FUZZ_COUNTS

ERRORS = (ValueError, TypeError)


def _select_algorithm(m, c):
    """The algorithm select_algorithm picks for the forward pass, requested
    explicitly, must compute what the reference computes."""
    if m is cconv:
        route = cconv.select_algorithm(c.x_shape, c.w_shape, **c.geo(threads=False))["forward"]
        algorithm = {"winograd-f2": "winograd", "winograd-f4": "winograd", "direct-depthwise": "direct",
                     "direct-single-channel": "direct"}.get(route, "gemm")   # gemm, gemm-implicit, gemm-pointwise
        return cconv.conv2d(c.x, c.w, c.b, **c.geo(), algorithm=algorithm)
    return m.conv2d(c.x, c.w, c.b, **c.geo())


# ---------------------------------------------------------------------------
# one drawn case
# ---------------------------------------------------------------------------
@dataclass
class Case:
    x: np.ndarray
    w: np.ndarray
    b: object               # ndarray or None
    gy: np.ndarray
    cols: np.ndarray
    kw: dict                # stride, padding, dilation, groups, layout, num_threads
    x_shape: tuple
    w_shape: tuple
    kernel_size: object
    extra: dict = field(default_factory=dict)

    def geo(self, *, groups=True, threads=True, mode=True):
        """The keywords of a call; ``mode=False`` for the functions without
        ``padding_mode`` (im2col, col2im and the transposed ones)."""
        out = dict(self.kw)
        if not groups:
            out.pop("groups", None)
        if not threads:
            out.pop("num_threads", None)
        if mode:
            out["padding_mode"] = self.extra.get("padding_mode", "zeros")
        return out


# ---------------------------------------------------------------------------
# the functions under test: (module, case) -> result
# ---------------------------------------------------------------------------
def _layer_dims(c, layout):
    """(KH, KW, Cg, O) of the case's weight shape for a layer's constructor. A layer is built
    from the four numbers of a 4-d weight shape; any other rank (the w_ndim fault) is refused
    here for both sides, as _layer_rejects_itself expects (reading the first four entries of a
    5-d shape built a valid layer on one side of the comparison only)."""
    if len(c.w_shape) != 4:
        raise ValueError(f"a layer's weight shape has 4 dimensions; got {len(c.w_shape)}")
    return (c.w_shape[2], c.w_shape[3], c.w_shape[1], c.w_shape[0]) if str(layout).upper() == "NCHW" \
        else tuple(c.w_shape)


def _layer(m, c):
    """Conv2D forward + backward; the reference side uses reference.conv2d/conv2d_backward
    with the layer's own initial weight."""
    layout = c.kw.get("layout", "NHWC")
    KH, KW, Cg, O = _layer_dims(c, layout)
    groups = c.kw.get("groups", 1)
    C = Cg * groups if isinstance(groups, int) and not isinstance(groups, bool) else Cg
    layer = cconv.Conv2D(C, O, (KH, KW), stride=c.kw["stride"], padding=c.kw["padding"],
                         padding_mode=c.extra["padding_mode"], dilation=c.kw["dilation"], groups=groups, layout=layout,
                         dtype=c.extra["layer_dtype"], rng=0)
    if m is cconv:
        y = layer(c.x)
        gx = layer.backward(c.gy)
        return y, gx, layer.grad_weight, layer.grad_bias
    kw = c.geo(threads=False)
    y = ref.conv2d(c.x, layer.weight, layer.bias, **kw)
    gx, gw, gb = ref.conv2d_backward(c.gy, c.x, layer.weight, **kw)
    return y, gx, gw.astype(layer.dtype), gb.astype(layer.dtype)


def _output_shape(m, c):
    if m is cconv:
        return np.array(cconv.output_shape(c.x_shape, c.w_shape, **c.geo(threads=False)))
    # the reference has no output_shape: the shape of its result on zero arrays of these shapes
    return np.array(ref.conv2d(np.zeros(c.x_shape), np.zeros(c.w_shape), **c.geo(threads=False)).shape)


# ---------------------------------------------------------------------------
# conv_transpose2d: cconv.reference has no transposed convolution, so the
# oracle here is its direct definition (each input pixel scatters
# x[n, i, j, :] @ weight into rows i*stride - top + kh*dilation), with the
# argument checks of cconv._params (which cconv.reference also uses) and the
# geometry rules of the docstring.
# ---------------------------------------------------------------------------
def _t_geometry(x_shape, w_shape, kw, output_padding):
    from cconv._params import groups_iv, layout_iv, num_threads_iv, padding_iv, pair_iv

    layout = layout_iv(kw["layout"])
    if "num_threads" in kw:
        num_threads_iv(kw["num_threads"])
    if len(x_shape) not in (3, 4) or len(w_shape) != 4:
        raise ValueError("x must have 3 (unbatched) or 4 dimensions, weight 4")
    if len(x_shape) == 3:
        x_shape = (1, *x_shape)
    N, H, W, C = x_shape if layout == "NHWC" else (x_shape[0], x_shape[2], x_shape[3], x_shape[1])
    KH, KW, Cog, Cin = w_shape if layout == "NHWC" else (w_shape[2], w_shape[3], w_shape[1], w_shape[0])
    sh, sw = pair_iv(kw["stride"], "stride")
    dh, dw = pair_iv(kw["dilation"], "dilation")
    G = groups_iv(kw["groups"])
    oph, opw = pair_iv(output_padding, "output_padding", minimum=0)
    pad = padding_iv(kw["padding"])
    if KH < 1 or KW < 1 or H < 1 or W < 1 or Cin != C or C % G:
        raise ValueError("bad sizes")
    span_h, span_w = dh * (KH - 1) + 1, dw * (KW - 1) + 1
    if isinstance(pad, str):
        if (oph, opw) != (0, 0):
            raise ValueError("output_padding with a string padding")
        # documented: output_padding = max(stride - span, 0); "same" crops span - stride, smaller half first
        crop_h = max(span_h - sh, 0) if pad == "same" else 0
        crop_w = max(span_w - sw, 0) if pad == "same" else 0
        pad = ((crop_h // 2, crop_h - crop_h // 2), (crop_w // 2, crop_w - crop_w // 2))
        oph, opw = max(sh - span_h, 0), max(sw - span_w, 0)
    elif oph >= max(sh, dh) or opw >= max(sw, dw):
        raise ValueError("output_padding too large")
    (pt, pb), (pl, pr) = pad
    Hfull, Wfull = (H - 1) * sh + span_h + oph, (W - 1) * sw + span_w + opw
    if Hfull - pt - pb < 1 or Wfull - pl - pr < 1:
        raise ValueError("padding crops everything")
    return dict(layout=layout, N=N, H=H, W=W, Cin=C, Cog=Cog, G=G, KH=KH, KW=KW, s=(sh, sw), d=(dh, dw),
                pads=((pt, pb), (pl, pr)), full=(Hfull, Wfull))


def _t_taps(g):
    """(kh, kw, rows, cols) slices of the uncropped output each kernel tap writes."""
    (sh, sw), (dh, dw) = g["s"], g["d"]
    for kh in range(g["KH"]):
        for kw_ in range(g["KW"]):
            yield kh, kw_, (slice(kh * dh, kh * dh + (g["H"] - 1) * sh + 1, sh),
                            slice(kw_ * dw, kw_ * dw + (g["W"] - 1) * sw + 1, sw))


def _t_nhwc(a, layout):
    return a.transpose(0, 2, 3, 1) if layout == "NCHW" else a


def _t_from_nhwc(a, layout):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2) if layout == "NCHW" else a)


def _t_weight(w, layout):
    return w.transpose(2, 3, 1, 0) if layout == "NCHW" else w          # -> (KH, KW, Cog, Cin)


def _t_crop(g):
    (pt, pb), (pl, pr) = g["pads"]
    return slice(pt, g["full"][0] - pb), slice(pl, g["full"][1] - pr)


def _ref_conv_transpose2d(x, w, b, kw, output_padding):
    from cconv._params import array_iv, compute_dtype

    x, w = array_iv(x, "x"), array_iv(w, "weight", 4)
    g = _t_geometry(x.shape, w.shape, kw, output_padding)
    if x.ndim == 3:  # unbatched: the batch of one, returned without its batch axis
        return _ref_conv_transpose2d(x[None], w, b, kw, output_padding)[0]
    b = None if b is None else array_iv(b, "bias")
    Cout = g["Cog"] * g["G"]
    if b is not None and b.shape != (Cout,):
        raise ValueError("bias shape")
    result, _ = compute_dtype(x, w, b)
    x64, w64 = _t_nhwc(x, g["layout"]).astype(np.float64), _t_weight(w, g["layout"]).astype(np.float64)
    Cig, Cog = g["Cin"] // g["G"], g["Cog"]
    y = np.zeros((g["N"],) + g["full"] + (Cout,))
    for kh, kw_, (rows, cols) in _t_taps(g):
        for grp in range(g["G"]):
            y[:, rows, cols, grp * Cog:(grp + 1) * Cog] += (
                x64[..., grp * Cig:(grp + 1) * Cig] @ w64[kh, kw_, :, grp * Cig:(grp + 1) * Cig].T)
    rows, cols = _t_crop(g)
    y = y[:, rows, cols]
    if b is not None:
        y = y + b.astype(np.float64)
    return _t_from_nhwc(y, g["layout"]).astype(result)


def _ref_conv_transpose2d_backward(gy, x, w, kw, output_padding):
    from cconv._params import array_iv, compute_dtype

    gy, x, w = array_iv(gy, "grad_out"), array_iv(x, "x"), array_iv(w, "weight", 4)
    g = _t_geometry(x.shape, w.shape, kw, output_padding)
    if x.ndim == 3:  # unbatched: grad_out must be unbatched too
        if gy.ndim != 3:
            raise ValueError("grad_out must be unbatched as x is")
        gx, gw, gb = _ref_conv_transpose2d_backward(gy[None], x[None], w, kw, output_padding)
        return gx[0], gw, gb
    if gy.ndim != 4:
        raise ValueError("grad_out must be batched as x is")
    L = g["layout"]
    Cout, Cig, Cog = g["Cog"] * g["G"], g["Cin"] // g["G"], g["Cog"]
    rows, cols = _t_crop(g)
    out_shape = (g["N"], rows.stop - rows.start, cols.stop - cols.start, Cout)
    if _t_nhwc(gy, L).shape != out_shape:
        raise ValueError("grad_out shape")
    result, _ = compute_dtype(gy, x, w)
    full = np.zeros((g["N"],) + g["full"] + (Cout,))
    full[:, rows, cols] = _t_nhwc(gy, L)
    x64, w64 = _t_nhwc(x, L).astype(np.float64), _t_weight(w, L).astype(np.float64)
    gx, gw = np.zeros_like(x64), np.zeros_like(w64)
    for kh, kw_, (r, c) in _t_taps(g):
        for grp in range(g["G"]):
            part = full[:, r, c, grp * Cog:(grp + 1) * Cog]                     # (N, H, W, Cog)
            wg = w64[kh, kw_, :, grp * Cig:(grp + 1) * Cig]                      # (Cog, Cig)
            gx[..., grp * Cig:(grp + 1) * Cig] += part @ wg
            gw[kh, kw_, :, grp * Cig:(grp + 1) * Cig] += np.einsum("nhwo,nhwi->oi", part,
                                                                   x64[..., grp * Cig:(grp + 1) * Cig])
    gb = full[:, rows, cols].sum(axis=(0, 1, 2))
    gw_layout = gw.transpose(3, 2, 0, 1) if L == "NCHW" else gw
    return (_t_from_nhwc(gx, L).astype(result), np.ascontiguousarray(gw_layout).astype(result), gb.astype(result))


def _transpose_target(which):
    """conv_transpose2d*, with x = the case's grad_out (O channels) and weight = the case's weight,
    i.e. the adjoint of the case's convolution."""
    def call(m, c):
        op = c.extra["output_padding"]
        t_kw = dict(c.kw)
        if which == "output_shape":
            t_kw.pop("num_threads")
            if m is cconv:
                return np.array(cconv.conv_transpose2d_output_shape(c.gy.shape, c.w.shape, output_padding=op,
                                                                    **t_kw))
            return np.array(_ref_conv_transpose2d(np.zeros(c.gy.shape), np.zeros(c.w.shape), None, t_kw, op).shape)
        if which == "forward":
            if m is cconv:
                return cconv.conv_transpose2d(c.gy, c.w, c.extra["bias_t"], output_padding=op, **t_kw)
            return _ref_conv_transpose2d(c.gy, c.w, c.extra["bias_t"], t_kw, op)
        # backward: grad_out of the reference's output shape (or the forward x when that fits)
        shape = _ref_conv_transpose2d(np.zeros(c.gy.shape), np.zeros(c.w.shape), None, t_kw, op).shape
        gt = c.x if c.x.shape == shape else c.extra["rng_values"](shape)
        if m is cconv:
            return cconv.conv_transpose2d_backward(gt, c.gy, c.w, output_padding=op, **t_kw)
        return _ref_conv_transpose2d_backward(gt, c.gy, c.w, t_kw, op)
    return call


def _transpose_layer(m, c):
    """ConvTranspose2D forward + backward against the direct-definition oracle with the layer's weight."""
    layout = c.kw.get("layout", "NHWC")
    KH, KW, Cg, O = _layer_dims(c, layout)
    groups = c.kw.get("groups", 1)
    C = Cg * groups if isinstance(groups, int) and not isinstance(groups, bool) else Cg
    op = c.extra["output_padding"]
    layer = cconv.ConvTranspose2D(O, C, (KH, KW), stride=c.kw["stride"], padding=c.kw["padding"],
                                  output_padding=op, dilation=c.kw["dilation"], groups=groups, layout=layout,
                                  dtype=c.extra["layer_dtype"], rng=0)
    t_kw = c.geo(threads=False, mode=False)
    shape = _ref_conv_transpose2d(np.zeros(c.gy.shape), np.zeros(layer.weight.shape), None, t_kw, op).shape
    gt = c.extra["rng_values"](shape)
    if m is cconv:
        y = layer(c.gy)
        return y, layer.backward(gt), layer.grad_weight, layer.grad_bias
    y = _ref_conv_transpose2d(c.gy, layer.weight, layer.bias, t_kw, op)
    gx, gw, gb = _ref_conv_transpose2d_backward(gt, c.gy, layer.weight, t_kw, op)
    return y, gx, gw.astype(layer.dtype), gb.astype(layer.dtype)


# ---------------------------------------------------------------------------
# the 1-D functions: each drawn case is also read as a 1-D one (its H axis
# dropped, each per-axis parameter's W entry kept), so the 1-D targets see the
# same sizes, dtypes, memory layouts and faults. The 1-D reference is
# cconv.reference's conv1d*; the transposed and layer targets use the
# direct-definition oracle above on the unit-H 2-D form.
# ---------------------------------------------------------------------------
def _is_plain_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _w_entry(v):
    """A per-axis int parameter for 1-D: a valid (h, w) pair keeps w; anything else stays as drawn."""
    if isinstance(v, tuple) and len(v) == 2 and all(_is_plain_int(u) for u in v):
        return v[1]
    return v


def _padding_1d(p):
    if isinstance(p, tuple) and len(p) == 2 and all(isinstance(v, tuple) for v in p):
        return (p[1],)                                   # ((t, b), (l, r)) -> ((l, r),)
    if p == "Valid":
        return "causal"                                  # so that conv1d's "causal" is drawn too
    return p                                             # int, (l, r), strings, bad values


def _layout_1d(layout):
    if isinstance(layout, str) and layout.upper() in ("NHWC", "NCHW"):
        return "".join(ch for ch in layout if ch.upper() != "H")
    return layout


def _drop_h(a, axis):
    """``a`` without its H axis ``axis``: a view of row 0, or, when H is 0, a W of 0 (so the fault stays)."""
    if a.shape[axis] > 0:
        return a[(slice(None),) * axis + (0,)]
    shape = list(a.shape)
    del shape[axis]
    shape[axis] = 0                                      # W follows H in every order
    return np.zeros(shape, a.dtype)


def _case_1d(c):
    """The drawn case read as a 1-D one (built once per case)."""
    if "case_1d" in c.extra:
        return c.extra["case_1d"]
    nchw = str(c.kw["layout"]).upper() == "NCHW"
    x = c.x
    if x.ndim in (3, 4):
        x = _drop_h(x, (1 if x.ndim == 3 else 2) if nchw else (0 if x.ndim == 3 else 1))
    w = _drop_h(c.w, 2 if nchw else 0) if c.w.ndim == 4 else c.w
    kw = dict(c.kw, stride=_w_entry(c.kw["stride"]), dilation=_w_entry(c.kw["dilation"]),
              padding=_padding_1d(c.kw["padding"]), layout=_layout_1d(c.kw["layout"]))
    geo = {k: v for k, v in kw.items() if k != "num_threads"}
    try:
        y_shape = tuple(ref.conv1d(np.zeros(x.shape), np.zeros(w.shape), padding_mode=c.extra["padding_mode"],
                                   **geo).shape)
    except ERRORS:
        y_shape = (1, 1, 1)
    fault = c.extra["fault"]
    if fault == "gy":
        y_shape = y_shape[:-1] + (y_shape[-1] + 1,)
    if fault == "gy_batch":
        y_shape = (1,) + y_shape if c.extra["unbatched"] else y_shape[1:]
    gy = c.extra["rng_values"](y_shape)
    c1 = Case(x=x, w=w, b=c.b, gy=gy, cols=c.cols, kw=kw, x_shape=tuple(x.shape), w_shape=tuple(w.shape),
              kernel_size=c.kernel_size, extra=dict(c.extra, output_padding=_w_entry(c.extra["output_padding"])))
    c.extra["case_1d"] = c1
    return c1


def _lift_int(v, unit):
    """A 1-D per-axis int parameter as the 2-D one with ``unit`` along H; what 1-D refuses, 2-D refuses too."""
    if _is_plain_int(v):
        return (unit, int(v))
    if isinstance(v, (tuple, list)) and len(v) == 1 and _is_plain_int(v[0]):
        return (unit, int(v[0]))
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return None                                      # a pair is no 1-D value: a TypeError on both sides
    return v


def _lift_padding(p):
    if _is_plain_int(p):
        return ((0, 0), (int(p), int(p)))
    if isinstance(p, tuple) and len(p) == 2 and all(_is_plain_int(v) for v in p):
        return ((0, 0), (int(p[0]), int(p[1])))
    if isinstance(p, tuple) and len(p) == 1:
        q = p[0]
        if _is_plain_int(q):
            return ((0, 0), (int(q), int(q)))
        if isinstance(q, tuple) and len(q) == 2 and all(_is_plain_int(v) for v in q):
            return ((0, 0), (int(q[0]), int(q[1])))
    if isinstance(p, tuple) and len(p) == 2:
        return None                                      # ((t, b), (l, r)) is 2-D only
    return p


def _lift_layout(layout):
    if isinstance(layout, str) and layout.upper() in ("NWC", "NCW"):
        return {"NWC": "NHWC", "NCW": "NCHW"}[layout.upper()]
    return layout


def _ref_conv_transpose1d_call(x, w, b, gy, kw1, op1):
    """The direct-definition oracle on the unit-H 2-D form: (forward,) or the backward triple."""
    from cconv._params import array_iv

    x, w = array_iv(x, "x"), array_iv(w, "weight")
    ncw = str(kw1["layout"]).upper() == "NCW"
    x_axis = {3: 2 if ncw else 1, 2: 1 if ncw else 0}.get(x.ndim, 0)
    w_axis = (2 if ncw else 0) if w.ndim == 3 else 0
    kw2 = dict(kw1, stride=_lift_int(kw1["stride"], 1), dilation=_lift_int(kw1["dilation"], 1),
               padding=_lift_padding(kw1["padding"]), layout=_lift_layout(kw1["layout"]))
    kw2.pop("num_threads", None)
    if "num_threads" in kw1:
        from cconv._params import num_threads_iv
        num_threads_iv(kw1["num_threads"])
    op2 = _lift_int(op1, 0)
    x2, w2 = np.expand_dims(x, x_axis), np.expand_dims(w, w_axis)
    if gy is None:
        return np.squeeze(_ref_conv_transpose2d(x2, w2, b, kw2, op2), axis=x_axis)
    gy = array_iv(gy, "grad_out")
    gy2 = np.expand_dims(gy, x_axis) if gy.ndim == x.ndim else gy
    gx, gw, gb = _ref_conv_transpose2d_backward(gy2, x2, w2, kw2, op2)
    return np.squeeze(gx, axis=x_axis), np.squeeze(gw, axis=w_axis), gb


def _t1_out_shape(c1, weight_shape):
    kw = {k: v for k, v in c1.kw.items() if k != "num_threads"}
    return _ref_conv_transpose1d_call(np.zeros(c1.gy.shape), np.zeros(weight_shape), None, None, kw,
                                      c1.extra["output_padding"]).shape


def _conv1d_target(name):
    def call(m, c):
        c1 = _case_1d(c)
        if name == "conv1d":
            return m.conv1d(c1.x, c1.w, c1.b, **c1.geo(), **_extra(m, c1, name))
        if name == "conv1d_backward":
            return m.conv1d_backward(c1.gy, c1.x, c1.w, **c1.geo(), **_extra(m, c1, name))
        if name == "conv1d_grad_input":
            return m.conv1d_grad_input(c1.gy, c1.w, c1.x_shape, **c1.geo(), **_extra(m, c1, name))
        if name == "conv1d_grad_weight":
            return m.conv1d_grad_weight(c1.gy, c1.x, c1.w_shape, **c1.geo(), **_extra(m, c1, name))
        if name == "conv1d_output_shape":
            if m is cconv:
                return np.array(cconv.conv1d_output_shape(c1.x_shape, c1.w_shape, **c1.geo(threads=False)))
            return np.array(ref.conv1d(np.zeros(c1.x_shape), np.zeros(c1.w_shape), **c1.geo(threads=False)).shape)
        if name == "select_algorithm":
            if m is cconv:
                route = cconv.select_algorithm(c1.x_shape, c1.w_shape, **c1.geo(threads=False))["forward"]
                algorithm = "direct" if route.startswith("direct") else "gemm"
                return cconv.conv1d(c1.x, c1.w, c1.b, **c1.geo(), algorithm=algorithm)
            return ref.conv1d(c1.x, c1.w, c1.b, **c1.geo())
        # the transposed pair: x = the case's grad_out, the adjoint of the case's convolution
        op = c1.extra["output_padding"]
        if name == "conv_transpose1d":
            if m is cconv:
                return cconv.conv_transpose1d(c1.gy, c1.w, c1.extra["bias_t"], output_padding=op, **c1.kw)
            return _ref_conv_transpose1d_call(c1.gy, c1.w, c1.extra["bias_t"], None, c1.kw, op)
        shape = _t1_out_shape(c1, c1.w.shape)
        gt = c1.x if c1.x.shape == shape else c1.extra["rng_values"](shape)
        if m is cconv:
            return cconv.conv_transpose1d_backward(gt, c1.gy, c1.w, output_padding=op, **c1.kw)
        return _ref_conv_transpose1d_call(c1.gy, c1.w, None, gt, c1.kw, op)
    return call


def _layer_1d(transposed):
    def call(m, c):
        c1 = _case_1d(c)
        if len(c1.w_shape) != 3:
            raise ValueError(f"a 1-D layer's weight shape has 3 dimensions; got {len(c1.w_shape)}")
        layout = c1.kw.get("layout", "NWC")
        KW, Cg, O = (c1.w_shape[2], c1.w_shape[1], c1.w_shape[0]) if str(layout).upper() == "NCW" else c1.w_shape
        groups = c1.kw.get("groups", 1)
        C = Cg * groups if _is_plain_int(groups) else Cg
        kw = c1.geo(threads=False)
        if not transposed:
            layer = cconv.Conv1D(C, O, KW, stride=kw["stride"], padding=kw["padding"],
                                 padding_mode=kw["padding_mode"], dilation=kw["dilation"], groups=groups,
                                 layout=layout, dtype=c1.extra["layer_dtype"], rng=0)
            if m is cconv:
                y = layer(c1.x)
                return y, layer.backward(c1.gy), layer.grad_weight, layer.grad_bias
            gx, gw, gb = ref.conv1d_backward(c1.gy, c1.x, layer.weight, **kw)
            return ref.conv1d(c1.x, layer.weight, layer.bias, **kw), gx, gw.astype(layer.dtype), gb.astype(layer.dtype)
        op = c1.extra["output_padding"]
        kw.pop("padding_mode")
        layer = cconv.ConvTranspose1D(O, C, KW, stride=kw["stride"], padding=kw["padding"], output_padding=op,
                                      dilation=kw["dilation"], groups=groups, layout=layout,
                                      dtype=c1.extra["layer_dtype"], rng=0)
        gt = c1.extra["rng_values"](_t1_out_shape(c1, layer.weight.shape))
        if m is cconv:
            y = layer(c1.gy)
            return y, layer.backward(gt), layer.grad_weight, layer.grad_bias
        y = _ref_conv_transpose1d_call(c1.gy, layer.weight, layer.bias, None, kw, op)
        gx, gw, gb = _ref_conv_transpose1d_call(c1.gy, layer.weight, None, gt, kw, op)
        return y, gx, gw.astype(layer.dtype), gb.astype(layer.dtype)
    return call


def _layer_1d_rejects_itself(case):
    """Conv1D/ConvTranspose1D validate their own constructor: channels >= 1."""
    c1 = _case_1d(case)
    layout = str(c1.kw.get("layout", "")).upper()
    if layout not in ("NWC", "NCW") or len(c1.w_shape) != 3:
        return True
    O, Cg = (c1.w_shape[0], c1.w_shape[1]) if layout == "NCW" else (c1.w_shape[2], c1.w_shape[1])
    return O < 1 or Cg < 1


TARGETS = {
    "conv2d": lambda m, c: m.conv2d(c.x, c.w, c.b, **c.geo(), **_extra(m, c, "conv2d")),
    "conv2d_backward": lambda m, c: m.conv2d_backward(c.gy, c.x, c.w, **c.geo(), **_extra(m, c, "conv2d_backward")),
    "conv2d_grad_input": lambda m, c: m.conv2d_grad_input(c.gy, c.w, c.x_shape, **c.geo(),
                                                          **_extra(m, c, "conv2d_grad_input")),
    "conv2d_grad_weight": lambda m, c: m.conv2d_grad_weight(c.gy, c.x, c.w_shape, **c.geo(),
                                                            **_extra(m, c, "conv2d_grad_weight")),
    "im2col": lambda m, c: m.im2col(c.x, c.kernel_size, **c.geo(groups=False, mode=False)),
    "col2im": lambda m, c: m.col2im(c.cols, c.x_shape, c.kernel_size, **c.geo(groups=False, mode=False)),
    "output_shape": _output_shape,
    "select_algorithm": _select_algorithm,
    "Conv2D": _layer,
    "conv_transpose2d": _transpose_target("forward"),
    "conv_transpose2d_backward": _transpose_target("backward"),
    "conv_transpose2d_output_shape": _transpose_target("output_shape"),
    "ConvTranspose2D": _transpose_layer,
    **{name: _conv1d_target(name) for name in ("conv1d", "conv1d_backward", "conv1d_grad_input", "conv1d_grad_weight",
                                              "conv1d_output_shape", "conv_transpose1d", "conv_transpose1d_backward")},
    "select_algorithm-1d": _conv1d_target("select_algorithm"),
    "Conv1D": _layer_1d(transposed=False),
    "ConvTranspose1D": _layer_1d(transposed=True),
}
# cconv-only keywords swept per target: {"conv2d": {"algorithm": ["auto", "gemm", ...]}}; each case
# picks one value of each (the reference, which has no such keyword, is called without it)
EXTRA_KEYWORDS: dict = {}


def _extra(m, c, name):
    if m is not cconv:
        return {}
    return {k: values[c.extra["pick"] % len(values)] for k, values in EXTRA_KEYWORDS.get(name, {}).items()}


def test_every_public_function_is_fuzzed():
    """A public function added to cconv without a fuzz entry fails here."""
    public = {name for name in cconv.__all__ if callable(getattr(cconv, name))}
    not_conv = {"get_num_threads", "set_num_threads", "openmp_enabled", "show_config"}
    fuzzed = set(TARGETS) | set(TARGETS_3D)
    assert public - not_conv <= fuzzed, sorted(public - not_conv - fuzzed)


# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------
BAD_INT_PARAMS = [0, -1, 1.5, "2", True, None, (1,), (1, 2, 3)]
DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_]
MEMORY = ["C", "F", "strided", "transposed", "readonly"]


FAULTS = ["stride", "dilation", "padding", "groups", "layout", "num_threads", "cin", "x_ndim", "w_ndim",
          "kernel0", "bias", "gy", "gy_batch", "cols", "complex", "kernel_size", "output_padding", "padding_mode"]
# Mostly zeros; the others (and numpy.pad's aliases) often meet a pad their small sizes cannot fill:
# then both sides must raise the same ValueError.
PADDING_MODES = ["zeros"] * 6 + ["reflect", "replicate", "circular", "symmetric", "edge", "wrap", "CONSTANT"]
BAD_PADDING_MODES = ["mirror", "", "zero", 0, None, ("reflect",)]


def _pick(draw, fault, name, good, bad=BAD_INT_PARAMS):
    """``good``, or a drawn bad value when this case's single fault is ``name``."""
    return draw(st.sampled_from(bad)) if fault == name else good


@st.composite
def int_or_pair(draw, lo, hi):
    a = draw(st.integers(lo, hi))
    if draw(st.booleans()):
        return a
    return (a, draw(st.integers(lo, hi)))


@st.composite
def paddings(draw):
    kind = draw(st.sampled_from(["int", "pair", "asym", "same", "valid", "SAME", "Valid"]))
    if kind == "int":
        return draw(st.integers(0, 3))
    if kind == "pair":
        return (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    if kind == "asym":
        return tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(2))
    return kind


BAD_PADDINGS = [-1, (0, -1), ((0, 0), (-1, 0)), "full", "", 1.5, (1, 2, 3), None, ((1, 2), 3)]


def _values(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        lo = 0 if dtype.kind == "u" else -3
        return rng.integers(lo, 4, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _in_memory(a, how, rng):
    """The same values as ``a`` in a different memory arrangement."""
    if how == "F":
        return np.asfortranarray(a)
    if how == "strided" and a.ndim:
        axis = int(rng.integers(a.ndim))
        shape = list(a.shape)
        shape[axis] *= 2
        big = np.zeros(shape, a.dtype)
        index = [slice(None)] * a.ndim
        index[axis] = slice(None, None, 2)
        big[tuple(index)] = a
        return big[tuple(index)]
    if how == "transposed" and a.ndim:
        perm = rng.permutation(a.ndim)
        return np.ascontiguousarray(a.transpose(perm)).transpose(np.argsort(perm))
    if how == "readonly":
        a = a.copy()
        a.setflags(write=False)
        return a
    return np.ascontiguousarray(a)


def _shape_in_layout(nhwc, layout):
    if str(layout).upper() == "NCHW":
        return (nhwc[0], nhwc[3], nhwc[1], nhwc[2])
    return tuple(nhwc)


def _weight_in_layout(hwio, layout):
    if str(layout).upper() == "NCHW":
        return (hwio[3], hwio[2], hwio[0], hwio[1])
    return tuple(hwio)


@st.composite
def cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    groups = draw(st.integers(1, 3))
    # sizes: mostly >= 1, with 0 and 1 drawn often enough to cover the empty and minimal cases
    size = lambda hi: draw(st.one_of(st.integers(1, hi), st.sampled_from([0, 1])))  # noqa: E731
    N, H, W = size(3), size(7), size(7)
    Cg, Og = size(3), size(3)
    KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    C, O = Cg * groups, Og * groups
    layout = draw(st.sampled_from(["NHWC", "NCHW", "nhwc", "Nchw"]))
    # at most one deliberate fault per case, so that cconv and the reference must agree on the
    # exception type (with several, each may report a different one first)
    fault = draw(st.sampled_from([None] * len(FAULTS) + FAULTS))
    kw = dict(
        stride=_pick(draw, fault, "stride", draw(int_or_pair(1, 3))),
        padding=_pick(draw, fault, "padding", draw(paddings()), bad=BAD_PADDINGS),
        dilation=_pick(draw, fault, "dilation", draw(int_or_pair(1, 3))),
        groups=_pick(draw, fault, "groups", groups),
        layout=_pick(draw, fault, "layout", layout, bad=["NWHC", "HWIO", "", 3, None]),
        num_threads=_pick(draw, fault, "num_threads", draw(st.sampled_from([None, 1, 2, 3])),
                          bad=[0, -1, 1025, 2**40, 1.5, "2"]),
    )
    padding_mode = _pick(draw, fault, "padding_mode", draw(st.sampled_from(PADDING_MODES)), bad=BAD_PADDING_MODES)
    x_nhwc = (N, H, W, C + (1 if fault == "cin" else 0))
    w_hwio = (0 if fault == "kernel0" else KH, KW, Cg, O)
    x_shape = _shape_in_layout(x_nhwc, layout)
    w_shape = _weight_in_layout(w_hwio, layout)
    # a quarter of the cases are unbatched: x without its N axis, as PyTorch accepts it
    unbatched = draw(st.sampled_from([False, False, False, True]))
    if unbatched:
        x_shape = x_shape[1:]
    if fault == "x_ndim":  # neither the batched nor the unbatched rank
        x_shape = draw(st.sampled_from([x_shape[2:], (1, 1) + x_shape]))
    if fault == "w_ndim":
        w_shape = w_shape + (1,)

    dtype_x = np.complex64 if fault == "complex" else draw(st.sampled_from(DTYPES))
    dtype_w = draw(st.sampled_from([dtype_x, np.float32, np.float64]))
    x = _in_memory(_values(rng, x_shape, dtype_x), draw(st.sampled_from(MEMORY)), rng)
    w = _in_memory(_values(rng, w_shape, dtype_w), draw(st.sampled_from(MEMORY)), rng)
    b = None
    if draw(st.booleans()):
        b = _values(rng, (O + (1 if fault == "bias" else 0),), draw(st.sampled_from([dtype_w, np.float32])))

    # grad_out and cols shaped from the *reference's* results (or deliberately wrong)
    try:
        y_shape = ref.conv2d(np.zeros(x.shape), np.zeros(w.shape), padding_mode=padding_mode, **kw).shape
    except ERRORS:
        y_shape = (1, 1, 1, 1)
    if fault == "gy":
        y_shape = y_shape[:-1] + (y_shape[-1] + 1,)
    if fault == "gy_batch":  # batched grad_out for unbatched x, or the reverse
        y_shape = (1,) + tuple(y_shape) if unbatched else tuple(y_shape)[1:]
    gy = _in_memory(_values(rng, y_shape, draw(st.sampled_from([dtype_x, np.float32]))),
                    draw(st.sampled_from(MEMORY)), rng)
    try:
        cols_shape = ref.im2col(np.zeros(x.shape), (KH, KW), **{k: v for k, v in kw.items() if k != "groups"}).shape
    except ERRORS:
        cols_shape = (1, 1)
    if fault == "cols":
        cols_shape = (cols_shape[0] + 1, cols_shape[1])
    cols = _in_memory(_values(rng, cols_shape, draw(st.sampled_from([dtype_x, np.float64]))),
                      draw(st.sampled_from(MEMORY)), rng)
    kernel_size = _pick(draw, fault, "kernel_size", KH if KH == KW and draw(st.booleans()) else (KH, KW),
                        bad=[0, (1, -1), 2.0, (1, 2, 3), None])
    layer_dtype = draw(st.sampled_from([np.float32, np.float64]))
    output_padding = _pick(draw, fault, "output_padding", draw(st.sampled_from([0, 0, 0, 1, (0, 1), (1, 2)])),
                           bad=[-1, 1.5, (0, -1), "1", (1, 2, 3)])
    bias_t = None if draw(st.booleans()) else _values(rng, (C,), draw(st.sampled_from([dtype_w, np.float32])))
    rng_values = lambda shape: _values(np.random.default_rng(seed + 1), shape, dtype_x)  # noqa: E731
    return Case(x=x, w=w, b=b, gy=gy, cols=cols, kw=kw, x_shape=tuple(x.shape), w_shape=tuple(w.shape),
                kernel_size=kernel_size, extra=dict(layer_dtype=layer_dtype, fault=fault, unbatched=unbatched, output_padding=output_padding,
                           padding_mode=padding_mode, pick=draw(st.integers(0, 99)),
                           bias_t=bias_t, rng_values=rng_values))


# ---------------------------------------------------------------------------
# comparing results
# ---------------------------------------------------------------------------
def _as_tuple(r):
    return tuple(r) if isinstance(r, tuple) else (r,)


def _tolerance(dtype):
    return {2: 4e-3, 4: 2e-5}.get(np.dtype(dtype).itemsize, 1e-11)


def _assert_same_results(got, expected, what):
    got, expected = _as_tuple(got), _as_tuple(expected)
    assert len(got) == len(expected), what
    for i, (g, e) in enumerate(zip(got, expected)):
        if e is None:
            assert g is None, f"{what}[{i}]: expected None"
            continue
        assert isinstance(g, np.ndarray), f"{what}[{i}]: {type(g)}"
        assert g.shape == e.shape, f"{what}[{i}]: shape {g.shape} != reference {e.shape}"
        assert g.dtype == e.dtype, f"{what}[{i}]: dtype {g.dtype} != reference {e.dtype}"
        if e.size == 0:
            continue
        assert np.all(np.isfinite(g)), f"{what}[{i}]: non-finite values from finite inputs"
        e64, g64 = e.astype(np.float64), g.astype(np.float64)
        scale = max(1.0, float(np.abs(e64).max()))
        tol = _tolerance(e.dtype)
        np.testing.assert_allclose(g64, e64, rtol=tol, atol=tol * scale * 8, err_msg=f"{what}[{i}]")


def _snapshot(case):
    arrays = {"x": case.x, "w": case.w, "b": case.b, "gy": case.gy, "cols": case.cols}
    return {k: (v.copy(), v.strides) for k, v in arrays.items() if isinstance(v, np.ndarray)}


def _layer_rejects_itself(case):
    """Conv2D validates its own constructor: channels >= 1 (the functions accept zero channels)."""
    layout = str(case.kw.get("layout", "")).upper()
    if layout not in ("NHWC", "NCHW") or len(case.w_shape) != 4:
        return True
    O = case.w_shape[3] if layout == "NHWC" else case.w_shape[0]
    Cg = case.w_shape[2] if layout == "NHWC" else case.w_shape[1]
    return O < 1 or Cg < 1


@given(case=cases())
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_against_reference(target, case):
    fn = TARGETS[target]
    note(f"target={target} fault={case.extra['fault']} kw={case.kw} x={case.x.shape} {case.x.dtype} "
         f"w={case.w.shape} {case.w.dtype} kernel_size={case.kernel_size}")
    before = _snapshot(case)
    try:
        expected = fn(ref, case)
        ref_error = None
    except ERRORS as exc:
        ref_error = exc
    layer_target = target in ("Conv2D", "ConvTranspose2D", "Conv1D", "ConvTranspose1D")
    rejects_itself = _layer_1d_rejects_itself if target.endswith("1D") else _layer_rejects_itself
    if layer_target and ref_error is None and rejects_itself(case):
        ref_error = ValueError(f"{target} needs in_channels, out_channels >= 1")
    try:
        got = fn(cconv, case)
        error = None
    except ERRORS as exc:
        error = exc
    for k, (copy, strides) in before.items():
        now = getattr(case, {"w": "w", "b": "b"}.get(k, k))
        np.testing.assert_array_equal(now, copy, err_msg=f"{target} modified input {k}")
        assert now.strides == strides

    if ref_error is not None:
        assert error is not None, f"{target}: reference raised {ref_error!r} but cconv returned"
        # cconv and the reference check num_threads and dtypes at different points, so with a natural
        # geometry error in the same case each may report a different one first
        order_dependent = case.extra["fault"] in ("num_threads", "complex")
        assert type(error) is type(ref_error) or layer_target or order_dependent, (
            f"{target}: cconv raised {error!r}, reference {ref_error!r}")
        FUZZ_COUNTS[f"{target}:error"] = FUZZ_COUNTS.get(f"{target}:error", 0) + 1
        return
    assert error is None, f"{target}: cconv raised {error!r} where the reference returned"
    _assert_same_results(got, expected, target)
    outcome = f"{target}:match" + ("-unbatched" if case.extra["unbatched"] else "")
    if str(case.extra["padding_mode"]).lower() not in ("zeros", "constant") and "padding_mode" in inspect.signature(
            getattr(cconv, target.split("-")[0], getattr(cconv, "conv2d"))).parameters:
        outcome += "-mode"
    if target.startswith(("conv1d", "conv_transpose1d", "select_algorithm-1d")) or target.endswith("1D"):
        if _case_1d(case).kw["padding"] == "causal":
            outcome += "-causal"
    FUZZ_COUNTS[outcome] = FUZZ_COUNTS.get(outcome, 0) + 1


def test_extra_keywords_name_real_parameters():
    """EXTRA_KEYWORDS may only name parameters the function accepts, each with a list of values."""
    for name, extra in EXTRA_KEYWORDS.items():
        params = inspect.signature(getattr(cconv, name)).parameters
        assert set(extra) <= set(params), (name, extra)
        assert all(isinstance(v, (list, tuple)) and v for v in extra.values()), (name, extra)


# ---------------------------------------------------------------------------
# 3-D: conv3d and its gradients, output shape and layer, on cases of their own
# (5-D arrays, per-axis triples), against cconv.reference's 3-D functions
# ---------------------------------------------------------------------------
FAULTS_3D = ["stride", "padding", "dilation", "groups", "layout", "num_threads", "cin", "x_ndim", "w_ndim",
             "gy", "padding_mode"]


@st.composite
def paddings_3d(draw):
    kind = draw(st.sampled_from(["int", "triple", "sides", "same", "valid"]))
    if kind == "int":
        return draw(st.integers(0, 2))
    if kind == "triple":
        return tuple(draw(st.integers(0, 2)) for _ in range(3))
    if kind == "sides":
        return tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(3))
    return kind


@st.composite
def cases_3d(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    groups = draw(st.integers(1, 2))
    N, D, H, W = draw(st.integers(0, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    Cg, Og = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    C, O = Cg * groups, Og * groups
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(3))
    layout = draw(st.sampled_from(["NDHWC", "NCDHW", "ndhwc"]))
    fault = draw(st.sampled_from([None] * len(FAULTS_3D) + FAULTS_3D))
    triple = st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2)))
    kw = dict(
        stride=_pick(draw, fault, "stride", draw(triple), bad=[0, (1, 2), 1.5, (1, 1, 0)]),
        padding=_pick(draw, fault, "padding", draw(paddings_3d()), bad=[-1, (1, 2), "causal", ((1, 1), (1, 1))]),
        padding_mode=_pick(draw, fault, "padding_mode", draw(st.sampled_from(PADDING_MODES)), bad=["mirror", "", 0]),
        dilation=_pick(draw, fault, "dilation", draw(triple), bad=[0, (1, 2)]),
        groups=_pick(draw, fault, "groups", groups, bad=[0, 1.5]),
        layout=_pick(draw, fault, "layout", layout, bad=["NHWC", "NCW", 3]),
        num_threads=_pick(draw, fault, "num_threads", draw(st.sampled_from([None, 1, 2])), bad=[0, "2"]),
    )
    channels_last = str(kw["layout"]).upper() != "NCDHW"
    x_shape = (N, D, H, W, C + (fault == "cin")) if channels_last else (N, C + (fault == "cin"), D, H, W)
    w_shape = (*kernel, Cg, O) if channels_last else (O, Cg, *kernel)
    unbatched = draw(st.sampled_from([False, False, True]))
    if unbatched:
        x_shape = x_shape[1:]
    if fault == "x_ndim":
        x_shape = x_shape[2:]
    if fault == "w_ndim":
        w_shape = w_shape[1:]
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int32, np.float16]))
    x = _in_memory(_values(rng, x_shape, dtype), draw(st.sampled_from(MEMORY)), rng)
    w = _in_memory(_values(rng, w_shape, draw(st.sampled_from([dtype, np.float64]))), draw(st.sampled_from(MEMORY)),
                   rng)
    b = _values(rng, (O,), np.float32) if draw(st.booleans()) else None
    try:
        y_shape = ref.conv3d(np.zeros(x.shape), np.zeros(w.shape), **{k: v for k, v in kw.items()}).shape
    except ERRORS:
        y_shape = (1, 1, 1, 1, 1)
    if fault == "gy":
        y_shape = y_shape[:-1] + (y_shape[-1] + 1,)
    gy = _values(rng, y_shape, np.float64)
    return Case(x=x, w=w, b=b, gy=gy, cols=np.zeros((1, 1)), kw=kw, x_shape=tuple(x.shape), w_shape=tuple(w.shape),
                kernel_size=kernel, extra=dict(fault=fault, unbatched=unbatched, padding_mode=kw["padding_mode"],
                                               layer_dtype=np.float64))


def _layer_3d(m, c):
    """Conv3D forward + backward against reference.conv3d/conv3d_backward with the layer's weight."""
    layout = c.kw["layout"]
    if len(c.w_shape) != 5:
        raise ValueError(f"a 3-D layer's weight shape has 5 dimensions; got {len(c.w_shape)}")
    channels_last = str(layout).upper() != "NCDHW"
    kernel = c.w_shape[:3] if channels_last else c.w_shape[2:]
    Cg, O = (c.w_shape[3], c.w_shape[4]) if channels_last else (c.w_shape[1], c.w_shape[0])
    groups = c.kw["groups"]
    C = Cg * groups if _is_plain_int(groups) else Cg
    kw = c.geo(threads=False)
    layer = cconv.Conv3D(C, O, kernel, **{k: v for k, v in kw.items() if k != "layout"}, layout=layout,
                         dtype=np.float64, rng=0)
    if m is cconv:
        y = layer(c.x)
        return y, layer.backward(c.gy), layer.grad_weight, layer.grad_bias
    gx, gw, gb = ref.conv3d_backward(c.gy, c.x, layer.weight, **kw)
    return ref.conv3d(c.x, layer.weight, layer.bias, **kw), gx, gw, gb


TARGETS_3D = {
    "conv3d": lambda m, c: m.conv3d(c.x, c.w, c.b, **c.geo()),
    "conv3d_backward": lambda m, c: m.conv3d_backward(c.gy, c.x, c.w, **c.geo()),
    "conv3d_grad_input": lambda m, c: m.conv3d_grad_input(c.gy, c.w, c.x_shape, **c.geo()),
    "conv3d_grad_weight": lambda m, c: m.conv3d_grad_weight(c.gy, c.x, c.w_shape, **c.geo()),
    "conv3d_output_shape": lambda m, c: (
        np.array(cconv.conv3d_output_shape(c.x_shape, c.w_shape, **c.geo(threads=False))) if m is cconv
        else np.array(ref.conv3d(np.zeros(c.x_shape), np.zeros(c.w_shape), **c.geo(threads=False)).shape)),
    "Conv3D": _layer_3d,
}


def _ref_conv_transpose3d(x, w, b, kw):
    """The transposed 3-D convolution by its scatter definition (float64 loops), after the shared
    argument checks (``cconv.conv_transpose3d_output_shape`` raises what the call would)."""
    import itertools
    from cconv._params import array_iv, compute_dtype
    x, w = array_iv(x, "x"), array_iv(w, "weight", 5)
    geo = {k: v for k, v in kw.items() if k != "num_threads"}
    out_shape = cconv.conv_transpose3d_output_shape(x.shape, w.shape, **geo)
    if "num_threads" in kw:
        from cconv._params import num_threads_iv
        num_threads_iv(kw["num_threads"])
    result, _ = compute_dtype(x, w, b)
    last = str(kw["layout"]).upper() != "NCDHW"
    unbatched = x.ndim == 4
    xb = x[None] if unbatched else x
    xn = np.asarray(xb if last else xb.transpose(0, 2, 3, 4, 1), np.float64)
    wn = np.asarray(w if last else w.transpose(2, 3, 4, 1, 0), np.float64)   # (KD, KH, KW, C_out//g, C_in)
    groups = kw.get("groups", 1)
    stride = (kw["stride"],) * 3 if isinstance(kw["stride"], int) else kw["stride"]
    dilation = (kw["dilation"],) * 3 if isinstance(kw["dilation"], int) else kw["dilation"]
    out = out_shape if unbatched is False else (1,) + tuple(out_shape)
    outs = out[1:4] if last else out[2:5]
    N, sizes, C_in = xn.shape[0], xn.shape[1:4], xn.shape[4]
    kernel, Cog = wn.shape[:3], wn.shape[3]
    Cig = C_in // groups
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(sizes, stride, dilation, kernel)]
    pad = kw["padding"]   # the crops before each axis (the output sizes fix those after)
    if pad == "same":
        before = [max(d * (k - 1) + 1 - s, 0) // 2 for d, k, s in zip(dilation, kernel, stride)]
    elif pad == "valid":
        before = [0, 0, 0]
    elif isinstance(pad, int):
        before = [pad] * 3
    elif all(isinstance(p, int) for p in pad):
        before = list(pad)
    else:
        before = [p[0] for p in pad]
    size_full = [max(f, b + o) for f, b, o in zip(full, before, outs)]
    y = np.zeros((N, *size_full, Cog * groups))
    for i in itertools.product(*(range(n) for n in sizes)):
        for k in itertools.product(*(range(m) for m in kernel)):
            o = tuple(i[a] * stride[a] + k[a] * dilation[a] for a in range(3))
            for g in range(groups):
                y[(slice(None), *o, slice(g * Cog, (g + 1) * Cog))] += (
                    xn[(slice(None), *i, slice(g * Cig, (g + 1) * Cig))]
                    @ wn[(*k, slice(None), slice(g * Cig, (g + 1) * Cig))].T)
    y = y[(slice(None),) + tuple(slice(b, b + o) for b, o in zip(before, outs)) + (slice(None),)]
    if b is not None:
        y = y + np.asarray(b, np.float64)
    y = y if last else y.transpose(0, 4, 1, 2, 3)
    return np.ascontiguousarray(y[0] if unbatched else y).astype(result)


def _transpose3d(m, c):
    kw = {k: v for k, v in c.geo().items() if k != "padding_mode"}
    if m is cconv:
        return cconv.conv_transpose3d(c.gy, c.w, None, **kw)
    return _ref_conv_transpose3d(c.gy, c.w, None, kw)


def _transpose3d_output_shape(m, c):
    kw = {k: v for k, v in c.geo(threads=False).items() if k != "padding_mode"}
    if m is cconv:
        return np.array(cconv.conv_transpose3d_output_shape(np.shape(c.gy), c.w.shape, **kw))
    return np.array(_ref_conv_transpose3d(np.zeros(np.shape(c.gy)), np.zeros(c.w.shape), None, kw).shape)


def _transpose3d_backward(m, c):
    """cconv's backward against the adjoint identities with the scatter definition: <T(x), g> = <x, gx>
    and <T_dw(x), g> = <dw, gw> for a random direction dw (float64 sums, one number each)."""
    kw = {k: v for k, v in c.geo().items() if k != "padding_mode"}
    y_shape = cconv.conv_transpose3d_output_shape(np.shape(c.gy), c.w.shape,
                                                 **{k: v for k, v in kw.items() if k != "num_threads"})
    g = np.random.default_rng(1).standard_normal(y_shape)
    if m is cconv:
        gx, gw, gb = cconv.conv_transpose3d_backward(g, c.gy, c.w, **kw)
        dw = np.random.default_rng(2).standard_normal(c.w.shape)
        return np.array([np.vdot(np.asarray(c.gy, np.float64), gx), np.vdot(dw, gw)]), gb.astype(np.float64)
    y = _ref_conv_transpose3d(np.asarray(c.gy, np.float64), np.asarray(c.w, np.float64), None, kw)
    dw = np.random.default_rng(2).standard_normal(c.w.shape)
    ydw = _ref_conv_transpose3d(np.asarray(c.gy, np.float64), dw, None, kw)
    spatial = (0, 1, 2, 3) if str(kw["layout"]).upper() != "NCDHW" else (0, 2, 3, 4)
    gb = (g if g.ndim == 5 else g[None]).sum(axis=spatial)
    return np.array([np.vdot(y, g), np.vdot(ydw, g)]), gb


def _layer_t3d(m, c):
    """ConvTranspose3D forward against the scatter definition with the layer's own weight."""
    layout = c.kw["layout"]
    if len(c.w_shape) != 5:
        raise ValueError(f"a 3-D layer's weight shape has 5 dimensions; got {len(c.w_shape)}")
    last = str(layout).upper() != "NCDHW"
    kernel = c.w_shape[:3] if last else c.w_shape[2:]
    Cog, C_in = (c.w_shape[3], c.w_shape[4]) if last else (c.w_shape[1], c.w_shape[0])
    groups = c.kw["groups"]
    C_out = Cog * groups if _is_plain_int(groups) else Cog
    kw = {k: v for k, v in c.geo(threads=False).items() if k not in ("padding_mode", "layout", "groups")}
    layer = cconv.ConvTranspose3D(C_in, C_out, kernel, **kw, groups=groups, layout=layout, dtype=np.float64, rng=0)
    if m is cconv:
        return layer(c.gy)
    return _ref_conv_transpose3d(c.gy, layer.weight, layer.bias, dict(kw, groups=groups, layout=layout))


TARGETS_3D.update({
    "conv_transpose3d": _transpose3d,
    "conv_transpose3d_output_shape": _transpose3d_output_shape,
    "conv_transpose3d_backward": _transpose3d_backward,
    "ConvTranspose3D": _layer_t3d,
})


def test_every_3d_function_is_fuzzed():
    public = {name for name in cconv.__all__ if "3d" in name.lower()}
    assert public == set(TARGETS_3D), sorted(public ^ set(TARGETS_3D))


@given(case=cases_3d())
@pytest.mark.parametrize("target", sorted(TARGETS_3D))
def test_fuzz_3d_against_reference(target, case):
    fn = TARGETS_3D[target]
    note(f"target={target} fault={case.extra['fault']} kw={case.kw} x={case.x.shape} {case.x.dtype} w={case.w.shape}")
    before = _snapshot(case)
    try:
        expected, ref_error = fn(ref, case), None
    except ERRORS as exc:
        expected, ref_error = None, exc
    if target == "Conv3D" and ref_error is None and min(case.w_shape) < 1:
        ref_error = ValueError("Conv3D needs channels >= 1")
    try:
        got, error = fn(cconv, case), None
    except ERRORS as exc:
        got, error = None, exc
    for k, (copy, strides) in before.items():
        np.testing.assert_array_equal(getattr(case, k), copy, err_msg=f"{target} modified input {k}")
    if ref_error is not None:
        assert error is not None, f"{target}: reference raised {ref_error!r} but cconv returned"
        assert (type(error) is type(ref_error) or target == "Conv3D"
                or case.extra["fault"] == "num_threads"), (error, ref_error)
        FUZZ_COUNTS[f"{target}:error"] = FUZZ_COUNTS.get(f"{target}:error", 0) + 1
        return
    assert error is None, f"{target}: cconv raised {error!r} where the reference returned"
    _assert_same_results(got, expected, target)
    key = f"{target}:match" + ("-unbatched" if case.extra["unbatched"] else "")
    FUZZ_COUNTS[key] = FUZZ_COUNTS.get(key, 0) + 1

