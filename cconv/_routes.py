"""Which kernel computes each pass of a convolution: the one place that decides.

``algorithm`` is the user's request: ``"auto"`` (measured heuristics below),
``"gemm"`` (im2col tiles times cconv's packed GEMM; serves every shape),
``"winograd"`` (3x3, stride 1, dilation 1: every pass) or
``"direct"`` (the direct kernels: depthwise, groups == C == O, and one
input channel with stride 1; every pass). A request that
cannot serve the shape raises ValueError saying why.

A route is a short name the benchmark prints:

- ``"winograd-f2"`` / ``"winograd-f4"``: Winograd F(2x2,3x3) / F(4x4,3x3)
  (for grad_weight, its transpose: the output gradient's tiles);
- ``"direct-depthwise"``: the depthwise kernels (NHWC rows, or NCHW planes);
- ``"direct-single-channel"``: one input channel, stride 1 (LeNet's first
  layer, grayscale stems): eight pixels by eight output channels per register
  block, read straight from the input (forward, under ``"auto"`` only for
  unpadded layers of at most 8 output channels and rows of whole 8-pixel
  vectors: "gemm-implicit" takes the others); grad_weight as dot products of
  input rows and gradient rows; grad_input as one dot product per input pixel
  and kernel row over the gradient's (tap, channel) values;
- ``"gemm-pointwise"``: a 1x1 stride-1 layer, the input rows are the GEMM's A
  (NHWC), or one GEMM per image on the planes (NCHW);
- ``"gemm-implicit"``: the forward of any other layer whose im2col row
  (KH*KW*C/groups values) fits one K block of the GEMM: the GEMM reads each
  pixel's receptive field where it lies in the input, through a table of
  pointers to its contiguous runs (an implicit GEMM: no im2col copy); and the
  grad_input of a stride-1 layer of >= 16 input channels per group, as that
  forward on grad_out with the kernel flipped;
- ``"gemm"``: im2col tiles times the packed weight (every backward GEMM, and
  forwards with a longer im2col row).

A 3-D layer (``conv3d``) takes the GEMM routes, whose im2col rows (vol2col)
span the kernel's depth too and whose col2im's race-free blocks are runs of
output depth planes instead of rows; or, depthwise, "direct-depthwise": the
2-D depthwise row kernels summed over the kernel's depth taps; or, for a
KD x 3 x 3 kernel at stride 1 and dilation 1, "winograd-f4" / "winograd-f2"
(F(m x m, 3 x 3) over H and W, the depth taps summed in the transform
domain; the weight gradient's thresholds differ from the forward's).

A padded layer with a ``padding_mode`` other than ``"zeros"`` (a *bordered*
one, ``ConvGeometry.bordered``) takes the GEMM routes only: their im2col rows
read the padding through the border maps, and their col2im adds its
gradient back onto the pixels it copies (``src/_patches.pxd``). Winograd and
the direct kernels assume zeros, so requesting them raises ValueError.

The heuristics are measured (docs/winograd.md, docs/performance.md): Winograd
pays when both channel counts per group are at least 16, so the transforms are
amortised over real GEMMs; F(4x4) wins from outputs of about 28x28 up, F(2x2)
below (F(4x4) pads a 14x14 output to 16x16 and has 2.8x more transformed
weight). Both tiles keep float32 within 1e-4 and float64 within 1e-10 of a
float64 direct result (relative to max |y|), so ``"auto"`` may pick either for
every dtype.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ._params import ConvGeometry
from . import _kernels
from ._winograd import winograd_supported

#: The values of the ``algorithm`` keyword.
ALGORITHMS = ("auto", "gemm", "winograd", "direct")

# Winograd under "auto": both per-group channel counts at least this.
_WINOGRAD_MIN_CHANNELS = 16
# "gemm-implicit" serves a forward whose im2col row is at most one K block of
# the active kernel row's GEMM (its B is then one packed block). Measured on
# Zen 5 at one thread, against im2col + GEMM: 0.56-0.97 of the time at
# avx512, 0.76-0.94 at avx2, over LeNet's layers, a 7x7/2 RGB stem, 3x3/2
# downsamples and 3x3/5x5 layers of 3..128 channels; it also beat the
# earlier row-band forward for few channels (0.80 against 0.93, the stem).
_IMPLICIT_MAX_K = min(info["kc"] for dtype, info in _kernels.row_info().items()
                      if dtype in ("float32", "float64"))
# grad_input of a stride-1 layer as the implicit GEMM's forward of grad_out:
# at least this many input channels per group. Measured on Zen 5 against
# GEMM + col2im, one thread: 0.61 of the time at 16 and 32 channels (3x3 and
# 5x5), but 2.0x as long at 6 channels (LeNet's second layer) and 3.8x at 3
# (the 7x7 stem shape at stride 1): C is the GEMM's width.
_IMPLICIT_GRAD_INPUT_MIN_CHANNELS = 16
# The direct single-channel forward under "auto": at most this many output
# channels (see _single_channel_forward_pays).
_SINGLE_CHANNEL_MAX_OUT = 8
# F(4x4) under "auto" (and for an explicit "winograd") when the smaller side
# of the computed image is at least this; F(2x2) below.
_F4_MIN_SIDE = 20
# In 3-D (F(m x m, 3 x 3) over H and W, the depth taps summed in the transform
# domain) each tile's transform serves KD GEMMs, so F(4x4) pays from a smaller
# side; below it, F(2x2) pays only with more channels. Measured on a Sapphire
# Rapids class Xeon (2 threads, float32, 3x3x3, padding 1) against the GEMM
# routes: 16^3 x 16..128 channels F(4x4) 0.42-0.83 of the time (F(2x2)
# 0.55-0.93); 8^3..12^3 at 48..128 channels F(2x2) 0.54-0.81; but at 32
# channels F(2x2) took 1.12-1.30x as long at 8^3..12^3.
_F4_MIN_SIDE_3D = 16
_WINOGRAD_3D_SMALL_MIN_CHANNELS = 48
# The 3-D weight gradient (its GEMMs' depth is the block's tiles, and each
# patch is transformed once for all depth taps) pays from 16 channels at
# every side: same machine, against the GEMM route, F(4x4) took 0.39-0.83
# of the time at 16..128 channels on 8^3..32^3 outputs (1.00 at 10^3 x 32);
# F(2x2) won only on 6^3 outputs (0.58-0.66 at 64..128 channels, F(4x4)
# 0.78-0.85).
_F4_MIN_SIDE_3D_GRAD_WEIGHT = 8


def algorithm_iv(algorithm: Any) -> str:
    """Validate the ``algorithm`` keyword; return it."""
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be a str, one of {ALGORITHMS}; got {type(algorithm).__name__} "
                        f"{algorithm!r}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}; got {algorithm!r}")
    return algorithm


def is_depthwise(geom: ConvGeometry) -> bool:
    """groups == C == O: the direct kernels beat 1-wide GEMMs. (A channel
    multiplier > 1 takes the grouped GEMM route.)"""
    return geom.groups > 1 and geom.Cg == 1 and geom.Og == 1


def is_pointwise(geom: ConvGeometry) -> bool:
    """1x1 (1x1x1), stride 1, no padding: the input rows are already the im2col rows."""
    return (geom.KD == geom.KH == geom.KW == 1 and geom.sd == geom.sh == geom.sw == 1
            and geom.pf == geom.pbk == geom.pt == geom.pb == geom.pl == geom.pr == 0)


def is_single_channel(geom: ConvGeometry) -> bool:
    """One input channel, one group, stride 1, 1-D or 2-D: the direct single-channel forward."""
    return geom.C == 1 and geom.groups == 1 and geom.sh == geom.sw == 1 and geom.rank < 3


def is_implicit(geom: ConvGeometry) -> bool:
    """Not 1x1 stride 1 unpadded, and the im2col row fits one K block: the
    "gemm-implicit" forward serves it."""
    return not is_pointwise(geom) and geom.KD * geom.KH * geom.KW * geom.Cg <= _IMPLICIT_MAX_K


def winograd_tile(side: int, rank: int = 2, grad_weight: bool = False) -> int:
    """The Winograd output tile m for an image (a 3-D layer: its slices) whose
    smaller side is ``side``; ``grad_weight`` for the weight gradient's."""
    if rank == 3:
        return 4 if side >= (_F4_MIN_SIDE_3D_GRAD_WEIGHT if grad_weight else _F4_MIN_SIDE_3D) else 2
    return 4 if side >= _F4_MIN_SIDE else 2


def _winograd_pays(geom: ConvGeometry, side: int, grad_weight: bool = False) -> bool:
    if not (winograd_supported(geom)[0] and geom.Cg >= _WINOGRAD_MIN_CHANNELS
            and geom.Og >= _WINOGRAD_MIN_CHANNELS):
        return False
    return (geom.rank != 3 or grad_weight or side >= _F4_MIN_SIDE_3D
            or min(geom.Cg, geom.Og) >= _WINOGRAD_3D_SMALL_MIN_CHANNELS)


def _cannot(algorithm: str, why: str) -> ValueError:
    return ValueError(f"algorithm={algorithm!r} cannot compute this convolution: {why}")


def _single_channel_forward_pays(geom: ConvGeometry) -> bool:
    """Whether the direct single-channel forward beats "gemm-implicit".
    Measured on Zen 5, one thread: 0.41-0.52 of its time on LeNet's first
    layer (no padding, 24-pixel rows, 6 or 8 output channels), a tie at 12
    channels, and 1.2-4.5x slower with padding, rows that end in a partial
    8-pixel vector, or 16-32 channels (64x64 grayscale, 3x3 and 5x5)."""
    return (geom.O <= _SINGLE_CHANNEL_MAX_OUT and geom.Wo % 8 == 0
            and geom.pt == geom.pb == geom.pl == geom.pr == 0)


def forward_route(geom: ConvGeometry, algorithm: str = "auto") -> str:
    """The route of the forward pass ("gemm-implicit" is a forward-only form of
    "gemm", so an explicit ``"gemm"`` takes it too)."""
    if is_single_channel(geom) and not geom.bordered and (
            algorithm == "direct" or algorithm == "auto" and _single_channel_forward_pays(geom)):
        return "direct-single-channel"
    route = _route(geom, algorithm, min(geom.Ho, geom.Wo))
    return "gemm-implicit" if route == "gemm" and is_implicit(geom) else route


def transposed_geometry(geom: ConvGeometry) -> ConvGeometry:
    """The forward convolution that computes a stride-1 layer's grad_input:
    of grad_out (Ho x Wo, O channels; Do x Ho x Wo in 3-D) with the kernel
    flipped and its channel axes swapped, padded by the kernel's extent less
    the layer's padding, giving H x W (D x H x W) with C channels."""
    ekd, ekh, ekw = (geom.KD - 1) * geom.dd, (geom.KH - 1) * geom.dh, (geom.KW - 1) * geom.dw
    return replace(geom, H=geom.Ho, W=geom.Wo, C=geom.O, O=geom.C, Ho=geom.H, Wo=geom.W,
                   pt=ekh - geom.pt, pb=ekh - geom.pb, pl=ekw - geom.pl, pr=ekw - geom.pr,
                   D=geom.Do, Do=geom.D, pf=ekd - geom.pf, pbk=ekd - geom.pbk)


def _implicit_grad_input_pays(geom: ConvGeometry) -> bool:
    """Stride 1, padding no wider than the kernel's extent, and at least
    _IMPLICIT_GRAD_INPUT_MIN_CHANNELS input channels per group (the width of
    the transposed GEMM), whose im2col row fits one K block."""
    if (geom.sd != 1 or geom.sh != 1 or geom.sw != 1 or geom.Cg < _IMPLICIT_GRAD_INPUT_MIN_CHANNELS
            or geom.bordered):
        return False
    t = transposed_geometry(geom)
    return min(t.pf, t.pbk, t.pt, t.pb, t.pl, t.pr) >= 0 and is_implicit(t)


def grad_input_route(geom: ConvGeometry, algorithm: str = "auto") -> str:
    """The route of grad_input: a 3x3 stride-1 grad_input is itself a 3x3
    stride-1 convolution (of grad_out, with the kernel flipped), so the same
    rules apply, with the input image as the computed one. Other stride-1
    ones wide enough take that convolution through "gemm-implicit"."""
    if algorithm in ("auto", "direct") and is_single_channel(geom) and not geom.bordered:
        return "direct-single-channel"
    route = _route(geom, algorithm, min(geom.H, geom.W))
    return "gemm-implicit" if route == "gemm" and _implicit_grad_input_pays(geom) else route


# The grad_input routes whose kernel writes every pixel of dx, so that dx need not be zeroed
# first (for a 1x1 layer the zeroing was 11% of its grad_input): the direct kernels, the implicit
# forward and the pointwise GEMM (beta 0 over every row). The im2col route scatters into dx.
_GRAD_INPUT_WRITES_EVERY_PIXEL = frozenset(
    ("direct-depthwise", "direct-single-channel", "gemm-implicit", "gemm-pointwise"))


def grad_input_writes_every_pixel(route: str) -> bool:
    """Whether grad_input's `route` (one of grad_input_route's answers, in 2-D
    or 3-D) writes every element of dx, so that dx may be allocated with
    np.empty; the other routes accumulate into a zeroed dx."""
    return route in _GRAD_INPUT_WRITES_EVERY_PIXEL


def grad_weight_route(geom: ConvGeometry, algorithm: str = "auto") -> str:
    """The route of grad_weight (and grad_bias). A 3x3 stride-1 weight
    gradient is the transpose of the same Winograd F(m x m, 3 x 3), with the
    tiles on the output gradient, so the forward's rules apply with the
    output image as the tiled one."""
    if algorithm in ("auto", "direct") and is_single_channel(geom) and not geom.bordered:
        return "direct-single-channel"
    return _route(geom, algorithm, min(geom.Ho, geom.Wo), grad_weight=True)


def _not_depthwise(geom: ConvGeometry) -> str:
    return (f"'direct' needs a depthwise convolution (groups == C == O), or one input channel with "
            f"stride 1; got groups={geom.groups}, C={geom.C}, O={geom.O}, "
            f"stride={_stride(geom)}")


def _stride(geom: ConvGeometry) -> str:
    """The stride as the caller gave its axes: ``(2, 2)`` in 2-D, ``(2,)`` in 1-D."""
    return str(geom.stride)


def _route(geom: ConvGeometry, algorithm: str, side: int, grad_weight: bool = False) -> str:
    if geom.bordered:
        if algorithm in ("winograd", "direct"):
            raise _cannot(algorithm, f"padding_mode={geom.padding_mode!r} runs on the GEMM kernels only (they read "
                                     f"the padding through border maps); use algorithm='gemm' or 'auto'")
        return "gemm"
    if geom.rank == 3:
        if algorithm == "direct" and not is_depthwise(geom):
            raise _cannot(algorithm, "'direct' needs a depthwise convolution (groups == C == O) in 3-D; got "
                                     f"groups={geom.groups}, C={geom.C}, O={geom.O}")
        if algorithm in ("auto", "direct") and is_depthwise(geom):
            return "direct-depthwise"
    if algorithm == "winograd":
        ok, why = winograd_supported(geom)
        if not ok:
            raise _cannot(algorithm, why)
        return f"winograd-f{winograd_tile(side, geom.rank, grad_weight)}"
    if geom.rank == 3:
        if algorithm == "auto" and _winograd_pays(geom, side, grad_weight):
            return f"winograd-f{winograd_tile(side, 3, grad_weight)}"
        return "gemm-pointwise" if is_pointwise(geom) and geom.groups == 1 else "gemm"
    if algorithm == "direct":
        if not is_depthwise(geom):
            raise _cannot(algorithm, _not_depthwise(geom))
        return "direct-depthwise"
    if algorithm == "auto":
        if is_depthwise(geom):
            return "direct-depthwise"
        if _winograd_pays(geom, side):
            return f"winograd-f{winograd_tile(side)}"
    return "gemm-pointwise" if is_pointwise(geom) and geom.groups == 1 else "gemm"


def routes(geom: ConvGeometry, algorithm: str = "auto") -> dict[str, str]:
    """The route of each pass: ``{"forward": ..., "grad_input": ..., "grad_weight": ...}``."""
    return {
        "forward": forward_route(geom, algorithm),
        "grad_input": grad_input_route(geom, algorithm),
        "grad_weight": grad_weight_route(geom, algorithm),
    }
