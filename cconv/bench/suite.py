"""The layers the benchmark times: the ``Layer`` type and the built-in suite.

A layer is a label and a ``ConvGeometry`` (``cconv._params``), the object
``conv2d`` validates its own arguments into, so the benchmark's output sizes,
padding and FLOP counts are conv2d's, not a second derivation that could
drift from it.

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
        """The layer as a ``--shape`` spec string."""
        g = self.geometry
        return (
            f"N={g.N},H={g.H},W={g.W},C={g.C},O={g.O},k={fmt_pair(self.kernel)},"
            f"stride={fmt_pair(self.stride)},pad={self.padding_spec()},"
            f"dilation={fmt_pair(self.dilation)},groups={g.groups}"
        )

    def params(self) -> dict[str, Any]:
        """The layer's parameters as a JSON-ready dict (``params`` of a record)."""
        g = self.geometry
        return {
            "N": g.N, "H": g.H, "W": g.W, "C": g.C, "O": g.O, "KH": g.KH, "KW": g.KW,
            "stride": list(self.stride), "padding": self.padding_json(),
            "dilation": list(self.dilation), "groups": g.groups, "Ho": g.Ho, "Wo": g.Wo,
        }

    def route(self, pass_: str, layout: str) -> str:
        """The kernel(s) cconv's ``algorithm="auto"`` runs for this pass: for
        bwd grad_input's route, then grad_weight's when they differ."""
        g = self.geometry
        r = cconv.select_algorithm(g.input_shape(layout), g.weight_shape(layout), stride=self.stride,
                                   padding=g.padding, dilation=self.dilation, groups=g.groups,
                                   layout=layout)
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
