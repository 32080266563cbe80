"""The layers the benchmark times: the ``Layer`` type and the built-in suite.

A layer is a label and a ``ConvGeometry`` (``cconv._params``), the object
``conv2d`` validates its own arguments into, so the benchmark's output sizes,
padding and FLOP counts are conv2d's, not a second derivation that could
drift from it. A 1-D layer (``Layer.make1d``, ``rank == 1``) is timed
through ``conv1d`` (and PyTorch's ``conv1d``, ORT's 1-D ``Conv``); its
geometry holds it as the 2-D one with a unit H axis, as ``conv1d`` does. A
3-D layer (``Layer.make3d``) is timed through ``conv3d`` (PyTorch's
``conv3d`` on channels_last_3d tensors, ORT's 3-D ``Conv``); its arrays are
NDHWC (``native_layout``).

FLOPs: the forward pass counts ``2*N*Ho*Wo*O*KH*KW*C/groups``
(``ConvGeometry.flops``); the backward pass counts twice that (grad_x and
grad_weight; grad_bias is negligible).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import cconv
from cconv._params import ConvGeometry, conv_geometry

#: The two passes timed per layer: forward, and backward (grad_x + grad_weight + grad_bias).
PASSES = ("fwd", "bwd")

Pair = tuple[int, int]


def fmt_pair(pair: Sequence[int]) -> str:
    """Format ``(3, 3)`` as ``"3"`` and ``(3, 5)`` as ``"3x5"``."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def fmt_triple(d: int, h: int, w: int) -> str:
    """Format ``(3, 3, 3)`` as ``"3"`` and ``(3, 1, 3)`` as ``"3x1x3"``."""
    return str(d) if d == h == w else f"{d}x{h}x{w}"


@dataclass(frozen=True)
class Layer:
    """One convolution layer to benchmark.

    Attributes
    ----------
    name : str
        Label shown in the table.
    geometry : ConvGeometry
        Every size of the convolution, validated as ``conv2d`` validates it
        (in NHWC terms: input ``(N, H, W, C)``, weight ``(KH, KW, C // groups, O)``).
    quick_n : int or None
        Batch size under ``--quick``; None keeps ``geometry.N``.
    """

    name: str
    geometry: ConvGeometry
    quick_n: int | None = None

    @classmethod
    def make(cls, name: str, *, N: int, H: int, W: int, C: int, O: int, kernel: int | Pair,
             stride: int | Pair = 1, padding: Any = 0, dilation: int | Pair = 1, groups: int = 1,
             quick_n: int | None = None) -> Layer:
        """Validate a layer's parameters and build it.

        ``kernel``, ``stride`` and ``dilation`` are an int or ``(h, w)``;
        ``padding`` is any form ``cconv.conv2d`` takes.

        Raises
        ------
        ValueError, TypeError
            As ``conv2d`` raises for the same parameters; also ValueError for
            a size below 1, which conv2d allows (an empty batch) but a
            benchmark cannot time.
        """
        for key, value in (("N", N), ("H", H), ("W", W), ("C", C), ("O", O)):
            if value < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        geometry = conv_geometry((N, H, W, C), kernel, out_channels=O, stride=stride, padding=padding,
                                 dilation=dilation, groups=groups, layout="NHWC")
        return cls(name, geometry, quick_n)

    @classmethod
    def make1d(cls, name: str, *, N: int, W: int, C: int, O: int, kernel: int, stride: int = 1,
               padding: Any = 0, dilation: int = 1, groups: int = 1, quick_n: int | None = None) -> Layer:
        """Validate a 1-D layer's parameters (as ``conv1d`` does) and build it.

        ``padding`` is any form ``cconv.conv1d`` takes.
        """
        for key, value in (("N", N), ("W", W), ("C", C), ("O", O)):
            if value < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        geometry = conv_geometry((N, W, C), kernel, out_channels=O, stride=stride, padding=padding,
                                 dilation=dilation, groups=groups, layout="NWC")
        return cls(name, geometry, quick_n)

    @classmethod
    def make3d(cls, name: str, *, N: int, D: int, H: int, W: int, C: int, O: int, kernel: Any, stride: Any = 1,
               padding: Any = 0, dilation: Any = 1, groups: int = 1, quick_n: int | None = None) -> Layer:
        """Validate a 3-D layer's parameters (as ``conv3d`` does) and build it."""
        for key, value in (("N", N), ("D", D), ("H", H), ("W", W), ("C", C), ("O", O)):
            if value < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        geometry = conv_geometry((N, D, H, W, C), kernel, out_channels=O, stride=stride, padding=padding,
                                 dilation=dilation, groups=groups, layout="NDHWC")
        return cls(name, geometry, quick_n)

    @property
    def rank(self) -> int:
        """Spatial axes: 2, 1 for a layer timed through ``conv1d``, 3 through ``conv3d``."""
        return self.geometry.rank

    @property
    def native_layout(self) -> str:
        """The order the layer's arrays are drawn in: NHWC (a 1-D layer with a unit H), or NDHWC."""
        return "NDHWC" if self.rank == 3 else "NHWC"

    def call_layout(self, layout: str) -> str:
        """The layout of the calls for the benchmark's ``--layout`` (NHWC/NCHW): NWC/NCW for a
        1-D layer, NDHWC/NCDHW for a 3-D one."""
        if self.rank == 2:
            return layout
        return {1: {"NHWC": "NWC", "NCHW": "NCW"}, 3: {"NHWC": "NDHWC", "NCHW": "NCDHW"}}[self.rank][layout]

    def call_kwargs(self, layout: str) -> dict[str, Any]:
        """The geometry keywords of a cconv call in ``call_layout(layout)``, padding resolved."""
        g = self.geometry
        if self.rank == 3:
            return dict(stride=(g.sd, g.sh, g.sw), padding=((g.pf, g.pbk), (g.pt, g.pb), (g.pl, g.pr)),
                        dilation=(g.dd, g.dh, g.dw), groups=g.groups, layout=self.call_layout(layout))
        if self.rank == 1:
            return dict(stride=g.sw, padding=(g.pl, g.pr), dilation=g.dw, groups=g.groups,
                        layout=self.call_layout(layout))
        return dict(stride=self.stride, padding=g.padding, dilation=self.dilation, groups=g.groups, layout=layout)

    def quick(self) -> Layer:
        """This layer at its ``--quick`` batch size."""
        if self.quick_n is None:
            return self
        return replace(self, geometry=replace(self.geometry, N=self.quick_n))  # N changes no other size

    @property
    def kernel(self) -> Pair:
        """``(KH, KW)``."""
        return (self.geometry.KH, self.geometry.KW)

    @property
    def stride(self) -> Pair:
        """``(sh, sw)``."""
        return (self.geometry.sh, self.geometry.sw)

    @property
    def dilation(self) -> Pair:
        """``(dh, dw)``."""
        return (self.geometry.dh, self.geometry.dw)

    def flops(self, pass_: str) -> int:
        """Floating-point operations of one pass (``"fwd"`` or ``"bwd"``)."""
        forward = self.geometry.flops
        return forward if pass_ == "fwd" else 2 * forward

    def padding_json(self) -> list[int] | list[list[int]]:
        """The padding as a JSON value that ``conv2d``'s ``padding`` also takes:
        ``[ph, pw]`` when each axis is symmetric (the form every earlier
        cconv-bench/1 document has), else ``[[top, bottom], [left, right]]``."""
        (pt, pb), (pl, pr) = self.geometry.padding
        if pt == pb and pl == pr:
            return [pt, pl]
        return [[pt, pb], [pl, pr]]

    def padding_spec(self) -> str:
        """The padding as ``--shape`` writes it: ``1``, ``1x2`` or ``top,bottom,left,right``."""
        (pt, pb), (pl, pr) = self.geometry.padding
        if pt == pb and pl == pr:
            return fmt_pair((pt, pl))
        return f"{pt},{pb},{pl},{pr}"

    def spec(self) -> str:
        """The layer as a ``--shape`` spec string (a 1-D one has no H)."""
        g = self.geometry
        if self.rank == 3:
            pads = (g.pf, g.pbk, g.pt, g.pb, g.pl, g.pr)
            pad = str(g.pf) if len(set(pads)) == 1 else ",".join(map(str, pads))
            return (f"N={g.N},D={g.D},H={g.H},W={g.W},C={g.C},O={g.O},k={fmt_triple(g.KD, g.KH, g.KW)},"
                    f"stride={fmt_triple(g.sd, g.sh, g.sw)},pad={pad},dilation={fmt_triple(g.dd, g.dh, g.dw)},"
                    f"groups={g.groups}")
        if self.rank == 1:
            pad = str(g.pl) if g.pl == g.pr else f"{g.pl},{g.pr}"
            return (f"N={g.N},W={g.W},C={g.C},O={g.O},k={g.KW},stride={g.sw},pad={pad},"
                    f"dilation={g.dw},groups={g.groups}")
        return (
            f"N={g.N},H={g.H},W={g.W},C={g.C},O={g.O},k={fmt_pair(self.kernel)},"
            f"stride={fmt_pair(self.stride)},pad={self.padding_spec()},"
            f"dilation={fmt_pair(self.dilation)},groups={g.groups}"
        )

    def params(self) -> dict[str, Any]:
        """The layer's parameters as a JSON-ready dict (``params`` of a record)."""
        g = self.geometry
        params: dict[str, Any] = {
            "N": g.N, "H": g.H, "W": g.W, "C": g.C, "O": g.O, "KH": g.KH, "KW": g.KW,
            "stride": list(self.stride), "padding": self.padding_json(),
            "dilation": list(self.dilation), "groups": g.groups, "Ho": g.Ho, "Wo": g.Wo,
        }
        if self.rank == 3:  # the depth axis: stride, padding and dilation become (d, h, w) lists
            params.update(D=g.D, KD=g.KD, Do=g.Do, stride=[g.sd, g.sh, g.sw],
                          padding=[[g.pf, g.pbk], [g.pt, g.pb], [g.pl, g.pr]], dilation=[g.dd, g.dh, g.dw])
        return params

    def route(self, pass_: str, layout: str) -> str:
        """The kernel(s) cconv's ``algorithm="auto"`` runs for this pass: for
        bwd grad_input's route, then grad_weight's when they differ."""
        g = self.geometry
        call = self.call_layout(layout)
        r = cconv.select_algorithm(g.input_shape(call), g.weight_shape(call), **self.call_kwargs(layout))
        if pass_ == "fwd":
            return r["forward"]
        return r["grad_input"] if r["grad_input"] == r["grad_weight"] else f"{r['grad_input']}+{r['grad_weight']}"


#: The built-in suite. ``N`` is the full-suite batch, ``quick_n`` the ``--quick`` one.
SUITE: list[Layer] = [
    Layer.make("lenet-conv1", N=64, H=28, W=28, C=1, O=6, kernel=5, quick_n=16),
    Layer.make("lenet-conv2", N=64, H=14, W=14, C=6, O=16, kernel=5, quick_n=16),
    Layer.make("resnet-56x56x64", N=8, H=56, W=56, C=64, O=64, kernel=3, padding=1, quick_n=2),
    Layer.make("resnet-28x28x128", N=8, H=28, W=28, C=128, O=128, kernel=3, padding=1, quick_n=2),
    Layer.make("resnet-14x14x256", N=8, H=14, W=14, C=256, O=256, kernel=3, padding=1, quick_n=2),
    Layer.make("downsample-3x3s2", N=8, H=56, W=56, C=64, O=128, kernel=3, stride=2, padding=1, quick_n=2),
    Layer.make("stem-7x7s2", N=2, H=224, W=224, C=3, O=64, kernel=7, stride=2, padding=3, quick_n=1),
    Layer.make("pointwise-1x1", N=8, H=28, W=28, C=256, O=64, kernel=1, quick_n=2),
    Layer.make("depthwise-3x3", N=8, H=56, W=56, C=128, O=128, kernel=3, padding=1, groups=128, quick_n=2),
]

#: The 1-D suite (``--suite 1d``): an audio front end (one channel, k=10, stride 5, as wav2vec 2.0's
#: first layer) and a dilated k=3 layer of a temporal convolutional network, at 256 and 512 channels.
SUITE_1D: list[Layer] = [
    Layer.make1d("audio-frontend-k10s5", N=4, W=16000, C=1, O=512, kernel=10, stride=5, quick_n=1),
    Layer.make1d("tcn-k3d2-256", N=8, W=2048, C=256, O=256, kernel=3, dilation=2, padding="same", quick_n=2),
    Layer.make1d("tcn-k3d4-512", N=8, W=1024, C=512, O=512, kernel=3, dilation=4, padding="causal", quick_n=2),
]

#: The 3-D suite (``--suite 3d``): 3x3x3 layers of a video / volume network at 32^3 and 16^3,
#: a 1x1x1 channel mix and a depthwise 3x3x3.
SUITE_3D: list[Layer] = [
    Layer.make3d("c3d-32^3x32", N=2, D=32, H=32, W=32, C=32, O=32, kernel=3, padding=1, quick_n=1),
    Layer.make3d("c3d-16^3x128", N=2, D=16, H=16, W=16, C=128, O=128, kernel=3, padding=1, quick_n=1),
    Layer.make3d("pointwise-1x1x1", N=2, D=16, H=32, W=32, C=128, O=64, kernel=1, quick_n=1),
    Layer.make3d("depthwise-3x3x3", N=2, D=16, H=32, W=32, C=64, O=64, kernel=3, padding=1, groups=64,
                 quick_n=1),
]

#: ``--suite`` names and their layers.
SUITES: dict[str, list[Layer]] = {"2d": SUITE, "1d": SUITE_1D, "3d": SUITE_3D, "all": SUITE + SUITE_1D + SUITE_3D}
