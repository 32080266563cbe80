"""``Conv2D``, ``ConvTranspose2D``, ``Conv1D``, ``ConvTranspose1D``, ``Conv3D`` and ``ConvTranspose3D``: convolution layers
holding their weight, bias and their gradients.

The 1-D layers are the 2-D ones' code with a 1-D layout: ``_TrainableLayer``
validates by the layout's rank and draws the weight in the layout's order.
"""
from __future__ import annotations

from typing import Any, Union

import numpy as np
from numpy.typing import DTypeLike

from ._layout_hints import spatial_letters, weight_order
from ._padding_mode import padding_mode_iv
from ._params import groups_iv, ints_iv, layout_iv
from ._types import ArrayLike, FloatArray, IntPair, Padding
from ._conv import conv2d, conv2d_backward
from ._conv1d import conv1d, conv1d_backward, conv_transpose1d, conv_transpose1d_backward
from ._conv3d import conv3d, conv3d_backward
from ._transpose import conv_transpose2d, conv_transpose2d_backward, conv_transpose3d, conv_transpose3d_backward


class _TrainableLayer:
    """What every layer shares: keep the input of ``forward`` and turn
    ``backward``'s gradients into ``grad_weight``/``grad_bias``. A subclass
    says which function computes each pass (``_apply``, ``_gradients``)."""

    weight: FloatArray
    bias: FloatArray | None
    dtype: np.dtype[Any]
    grad_weight: FloatArray | None
    grad_bias: FloatArray | None
    _x: ArrayLike | None
    #: Spatial axes of the layer's input (its layouts, kernel_size and parameters follow it).
    _rank = 2

    def _set_common(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair,
                    padding: Padding, groups: int, layout: str, dtype: DTypeLike) -> tuple[int, ...]:
        """Validate and store what every layer takes; return the kernel size per spatial axis."""
        self.layout = layout_iv(layout, self._rank)
        self.groups = groups_iv(groups)
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an int >= 1; got {value!r}")
            if value % self.groups:
                raise ValueError(f"groups={self.groups} must divide {name}={value}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64; got {self.dtype}")
        kernel = ints_iv(kernel_size, "kernel_size", self._rank)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size: tuple[int, ...] = kernel
        self.stride: IntPair = stride
        self.padding: Padding = padding
        return kernel

    def _initial_weight(self, kernel: tuple[int, ...], fan_channels: int, channels: tuple[int, int],
                        transposed: bool, rng: Union[np.random.Generator, int, None]) -> FloatArray:
        """He-style initial weight in the layout's order: normal with standard deviation
        sqrt(2 / fan_in), fan_in = fan_channels * prod(kernel).

        It is drawn channels last, shape ``(*kernel, *channels)`` (HWIO, or
        HWOI for a transposed weight), and then reordered, so a layer's
        initial values do not depend on its layout.
        """
        std = np.sqrt(2.0 / (fan_channels * int(np.prod(kernel))))
        drawn = np.random.default_rng(rng).standard_normal((*kernel, *channels)) * std
        src = weight_order(self.layout[0] + spatial_letters(self.layout) + "C", transposed)  # channels-last order
        dst = weight_order(self.layout, transposed)
        return np.ascontiguousarray(drawn.transpose([src.index(a) for a in dst]), dtype=self.dtype)

    def _kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def _apply(self, x: ArrayLike) -> FloatArray:
        raise NotImplementedError

    def _gradients(self, grad_out: ArrayLike, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        raise NotImplementedError

    def forward(self, x: ArrayLike) -> FloatArray:
        """Return the layer's output for ``x`` and keep ``x`` for ``backward``.

        ``x`` is a batch in the layer's layout or one unbatched image
        ((H, W, C) for NHWC, (C, H, W) for NCHW; (W, C) or (C, W) for the 1-D
        layers, (D, H, W, C) or (C, D, H, W) for Conv3D); the output is batched
        as ``x`` is.
        """
        y = self._apply(x)
        self._x = x
        return y

    def __call__(self, x: ArrayLike) -> FloatArray:
        """Same as ``forward``."""
        return self.forward(x)

    def backward(self, grad_out: ArrayLike) -> FloatArray:
        """Set ``grad_weight``/``grad_bias`` from ``grad_out`` and return grad of the input.

        ``grad_out`` has the shape ``forward`` returned (unbatched when its
        input was); the gradient has that input's shape.

        Raises
        ------
        RuntimeError
            If ``forward`` has not been called.
        """
        if self._x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        gx, gw, gb = self._gradients(grad_out, self._x)
        self.grad_weight = gw.astype(self.dtype, copy=False)
        self.grad_bias = gb.astype(self.dtype, copy=False) if self.bias is not None else None
        return gx


class _Conv(_TrainableLayer):
    """What Conv2D and Conv1D share: the 2-D functions unless a subclass names its own."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, *, stride: IntPair = 1,
                 padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                 bias: bool = True, layout: str = "NHWC", dtype: DTypeLike = np.float32,
                 rng: Union[np.random.Generator, int, None] = None) -> None:
        kernel = self._set_common(in_channels, out_channels, kernel_size, stride, padding, groups, layout, dtype)
        self.padding_mode = padding_mode_iv(padding_mode)
        self.dilation: IntPair = dilation
        cg = self.in_channels // self.groups
        self.weight = self._initial_weight(kernel, cg, (cg, self.out_channels), False, rng)
        self.bias: FloatArray | None = np.zeros(self.out_channels, dtype=self.dtype) if bias else None
        self.grad_weight: FloatArray | None = None
        self.grad_bias: FloatArray | None = None
        self._x: ArrayLike | None = None

    def _kwargs(self) -> dict[str, Any]:
        return dict(stride=self.stride, padding=self.padding, padding_mode=self.padding_mode, dilation=self.dilation,
                    groups=self.groups, layout=self.layout)

    def _apply(self, x: ArrayLike) -> FloatArray:
        return conv2d(x, self.weight, self.bias, **self._kwargs())

    def _gradients(self, grad_out: ArrayLike, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        return conv2d_backward(grad_out, x, self.weight, **self._kwargs())

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r}, padding_mode={self.padding_mode!r}, "
                f"dilation={self.dilation}, groups={self.groups}, "
                f"bias={self.bias is not None}, layout={self.layout!r}, dtype={self.dtype.name})")


class Conv2D(_Conv):
    """A 2-D convolution layer with forward and backward passes.

    Parameters
    ----------
    in_channels, out_channels : int
        C and O; both divisible by ``groups``.
    kernel_size : int or (int, int)
        (KH, KW).
    stride, padding, padding_mode, dilation, groups, layout
        As in ``cconv.conv2d``.
    bias : bool, default True
        Whether the layer adds a learned bias (initialised to zero).
    dtype : float32 or float64, default float32
    rng : numpy.random.Generator, int or None
        Source of the He-style initial weights: normal with standard
        deviation sqrt(2 / fan_in), fan_in = (C // groups) * KH * KW.

    Attributes
    ----------
    weight : ndarray, (KH, KW, C//groups, O) for NHWC or (O, C//groups, KH, KW) for NCHW
    bias : ndarray of shape (O,) or None
    grad_weight, grad_bias : ndarray or None
        Set by ``backward``; None before it.
    """


class _ConvTranspose(_TrainableLayer):
    """What ConvTranspose2D and ConvTranspose1D share: the 2-D functions unless a subclass names its own."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, *, stride: IntPair = 1,
                 padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1,
                 bias: bool = True, layout: str = "NHWC", dtype: DTypeLike = np.float32,
                 rng: Union[np.random.Generator, int, None] = None) -> None:
        kernel = self._set_common(in_channels, out_channels, kernel_size, stride, padding, groups, layout, dtype)
        self.output_padding: IntPair = output_padding
        self.dilation: IntPair = dilation
        cog = self.out_channels // self.groups
        self.weight = self._initial_weight(kernel, cog, (cog, self.in_channels), True, rng)
        self.bias: FloatArray | None = np.zeros(self.out_channels, dtype=self.dtype) if bias else None
        self.grad_weight: FloatArray | None = None
        self.grad_bias: FloatArray | None = None
        self._x: ArrayLike | None = None

    def _kwargs(self) -> dict[str, Any]:
        return dict(stride=self.stride, padding=self.padding, output_padding=self.output_padding,
                    dilation=self.dilation, groups=self.groups, layout=self.layout)

    def _apply(self, x: ArrayLike) -> FloatArray:
        return conv_transpose2d(x, self.weight, self.bias, **self._kwargs())

    def _gradients(self, grad_out: ArrayLike, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        return conv_transpose2d_backward(grad_out, x, self.weight, **self._kwargs())

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r}, output_padding={self.output_padding}, "
                f"dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}, "
                f"layout={self.layout!r}, dtype={self.dtype.name})")


class ConvTranspose2D(_ConvTranspose):
    """A transposed 2-D convolution layer (as ``torch.nn.ConvTranspose2d``) with forward and backward passes.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out; both divisible by ``groups``.
    kernel_size : int or (int, int)
        (KH, KW).
    stride, padding, output_padding, dilation, groups, layout
        As in ``cconv.conv_transpose2d``.
    bias : bool, default True
        Whether the layer adds a learned bias (initialised to zero).
    dtype : float32 or float64, default float32
    rng : numpy.random.Generator, int or None
        Source of the He-style initial weights: normal with standard
        deviation sqrt(2 / fan_in), fan_in = (C_out // groups) * KH * KW
        (PyTorch's fan-in for a transposed-convolution weight).

    Attributes
    ----------
    weight : ndarray, (KH, KW, C_out//groups, C_in) for NHWC or (C_in, C_out//groups, KH, KW) for NCHW
    bias : ndarray of shape (C_out,) or None
    grad_weight, grad_bias : ndarray or None
        Set by ``backward``; None before it.
    """


class Conv1D(_Conv):
    """A 1-D convolution layer (as ``torch.nn.Conv1d``, ``keras.layers.Conv1D``) with forward and backward passes.

    Parameters
    ----------
    in_channels, out_channels : int
        C and O; both divisible by ``groups``.
    kernel_size : int or (int,)
        KW.
    stride, padding, padding_mode, dilation, groups
        As in ``cconv.conv1d`` (``padding="causal"`` included).
    layout : {"NWC", "NCW"}, default "NWC"
        Channels last (native) or PyTorch's channels first.
    bias : bool, default True
        Whether the layer adds a learned bias (initialised to zero).
    dtype : float32 or float64, default float32
    rng : numpy.random.Generator, int or None
        Source of the He-style initial weights: normal with standard
        deviation sqrt(2 / fan_in), fan_in = (C // groups) * KW.

    Attributes
    ----------
    weight : ndarray, (KW, C//groups, O) for NWC or (O, C//groups, KW) for NCW
    bias : ndarray of shape (O,) or None
    grad_weight, grad_bias : ndarray or None
        Set by ``backward``; None before it.
    """

    _rank = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, *, stride: IntPair = 1,
                 padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                 bias: bool = True, layout: str = "NWC", dtype: DTypeLike = np.float32,
                 rng: Union[np.random.Generator, int, None] = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         padding_mode=padding_mode, dilation=dilation, groups=groups, bias=bias, layout=layout,
                         dtype=dtype, rng=rng)

    def _apply(self, x: ArrayLike) -> FloatArray:
        return conv1d(x, self.weight, self.bias, **self._kwargs())

    def _gradients(self, grad_out: ArrayLike, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        return conv1d_backward(grad_out, x, self.weight, **self._kwargs())


class ConvTranspose1D(_ConvTranspose):
    """A transposed 1-D convolution layer (as ``torch.nn.ConvTranspose1d``) with forward and backward passes.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out; both divisible by ``groups``.
    kernel_size : int or (int,)
        KW.
    stride, padding, output_padding, dilation, groups
        As in ``cconv.conv_transpose1d``.
    layout : {"NWC", "NCW"}, default "NWC"
    bias : bool, default True
        Whether the layer adds a learned bias (initialised to zero).
    dtype : float32 or float64, default float32
    rng : numpy.random.Generator, int or None
        Source of the He-style initial weights: normal with standard
        deviation sqrt(2 / fan_in), fan_in = (C_out // groups) * KW.

    Attributes
    ----------
    weight : ndarray, (KW, C_out//groups, C_in) for NWC or (C_in, C_out//groups, KW) for NCW
    bias : ndarray of shape (C_out,) or None
    grad_weight, grad_bias : ndarray or None
        Set by ``backward``; None before it.
    """

    _rank = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, *, stride: IntPair = 1,
                 padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1,
                 bias: bool = True, layout: str = "NWC", dtype: DTypeLike = np.float32,
                 rng: Union[np.random.Generator, int, None] = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         output_padding=output_padding, dilation=dilation, groups=groups, bias=bias, layout=layout,
                         dtype=dtype, rng=rng)

    def _apply(self, x: ArrayLike) -> FloatArray:
        return conv_transpose1d(x, self.weight, self.bias, **self._kwargs())

    def _gradients(self, grad_out: ArrayLike, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        return conv_transpose1d_backward(grad_out, x, self.weight, **self._kwargs())



class Conv3D(_Conv):
    """A 3-D convolution layer (as ``torch.nn.Conv3d``, ``keras.layers.Conv3D``) with forward and backward passes.

    Parameters
    ----------
    in_channels, out_channels : int
        C and O; both divisible by ``groups``.
    kernel_size : int or (int, int, int)
        (KD, KH, KW).
    stride, padding, padding_mode, dilation, groups
        As in ``cconv.conv3d``.
    layout : {"NDHWC", "NCDHW"}, default "NDHWC"
        Channels last (native) or PyTorch's channels first.
    bias : bool, default True
        Whether the layer adds a learned bias (initialised to zero).
    dtype : float32 or float64, default float32
    rng : numpy.random.Generator, int or None
        Source of the He-style initial weights: normal with standard
        deviation sqrt(2 / fan_in), fan_in = (C // groups) * KD * KH * KW.

    Attributes
    ----------
    weight : ndarray, (KD, KH, KW, C//groups, O) for NDHWC or (O, C//groups, KD, KH, KW) for NCDHW
    bias : ndarray of shape (O,) or None
    grad_weight, grad_bias : ndarray or None
        Set by ``backward``; None before it.
    """

    _rank = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, *, stride: IntPair = 1,
                 padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                 bias: bool = True, layout: str = "NDHWC", dtype: DTypeLike = np.float32,
                 rng: Union[np.random.Generator, int, None] = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         padding_mode=padding_mode, dilation=dilation, groups=groups, bias=bias, layout=layout,
                         dtype=dtype, rng=rng)

    def _apply(self, x: ArrayLike) -> FloatArray:
        return conv3d(x, self.weight, self.bias, **self._kwargs())

    def _gradients(self, grad_out: ArrayLike, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        return conv3d_backward(grad_out, x, self.weight, **self._kwargs())


class ConvTranspose3D(_ConvTranspose):
    """A transposed 3-D convolution layer (as ``torch.nn.ConvTranspose3d``) with forward and backward passes.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out; both divisible by ``groups``.
    kernel_size : int or (int, int, int)
        (KD, KH, KW).
    stride, padding, output_padding, dilation, groups
        As in ``cconv.conv_transpose3d``.
    layout : {"NDHWC", "NCDHW"}, default "NDHWC"
    bias : bool, default True
    dtype : float32 or float64, default float32
    rng : numpy.random.Generator, int or None
        Source of the He-style initial weights, fan_in = (C_out // groups) * KD * KH * KW.

    Attributes
    ----------
    weight : ndarray, (KD, KH, KW, C_out//groups, C_in) for NDHWC or (C_in, C_out//groups, KD, KH, KW) for NCDHW
    bias : ndarray of shape (C_out,) or None
    grad_weight, grad_bias : ndarray or None
        Set by ``backward``; None before it.
    """

    _rank = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, *, stride: IntPair = 1,
                 padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1,
                 bias: bool = True, layout: str = "NDHWC", dtype: DTypeLike = np.float32,
                 rng: Union[np.random.Generator, int, None] = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         output_padding=output_padding, dilation=dilation, groups=groups, bias=bias, layout=layout,
                         dtype=dtype, rng=rng)

    def _apply(self, x: ArrayLike) -> FloatArray:
        return conv_transpose3d(x, self.weight, self.bias, **self._kwargs())

    def _gradients(self, grad_out: ArrayLike, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        return conv_transpose3d_backward(grad_out, x, self.weight, **self._kwargs())
