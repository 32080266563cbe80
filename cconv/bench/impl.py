"""``Impl``: one implementation bound to one layer's inputs, the unit the
timing loop calls; and the binding of cconv itself, whose ``conv2d`` and
``conv2d_backward`` the NumPy reference shares."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .inputs import Inputs, for_call
from .suite import Layer


@dataclass
class Impl:
    """One implementation bound to one layer's inputs.

    Attributes
    ----------
    name : str
        ``"cconv"``, ``"reference"``, ``"torch"`` or ``"ort"``.
    forward, backward : callable
        Zero-argument functions running one pass; ``backward`` is None for an
        implementation without one (ORT), which then sits the pass out.
    to_numpy : callable
        Turns a pass's result into NumPy arrays in the benchmark's layout:
        ``y`` for the forward pass, ``(grad_x, grad_weight, grad_bias)`` for the
        backward pass.
    settle_s : float
        Pause after a call before another implementation runs, so that this
        one's idle worker threads stop spinning and do not steal the next
        one's cores (needed after OpenBLAS, see ``timing.SETTLE_BLAS_S``).
    """

    name: str
    forward: Callable[[], object]
    backward: Callable[[], object] | None
    to_numpy: Callable[[object], object] = lambda result: result
    settle_s: float = 0.0

    def has_pass(self, pass_: str) -> bool:
        """Whether this implementation runs ``pass_``."""
        return pass_ == "fwd" or self.backward is not None

    def pass_fn(self, pass_: str) -> Callable[[], object]:
        """The zero-argument function of ``pass_`` (``"fwd"`` or ``"bwd"``)."""
        fn = self.forward if pass_ == "fwd" else self.backward
        if fn is None:
            raise ValueError(f"{self.name} has no {pass_} pass")
        return fn


def module_impl(name: str, module: Any, layer: Layer, inputs: Inputs, layout: str,
                settle_s: float = 0.0, threads: int | None = None) -> Impl:
    """Bind ``module.conv2d``/``module.conv2d_backward`` (cconv or cconv.reference),
    or ``conv1d``/``conv3d`` and their backward for a 1-D/3-D layer, to ``inputs``, which must
    already be in ``layout``; ``threads`` pins cconv's ``num_threads``."""
    kwargs: dict[str, Any] = layer.call_kwargs(layout)
    if threads is not None:
        kwargs["num_threads"] = threads
    args = for_call(inputs, layer, layout)
    conv = getattr(module, f"conv{layer.rank}d")
    conv_backward = getattr(module, f"conv{layer.rank}d_backward")
    return Impl(
        name=name,
        forward=lambda: conv(args.x, args.weight, args.bias, **kwargs),
        backward=lambda: conv_backward(args.grad_out, args.x, args.weight, **kwargs),
        settle_s=settle_s,
    )


def failing_impl(name: str, message: str) -> Impl:
    """A forward-only implementation that raises ``RuntimeError(message)``:
    stands in for one that could not be set up, so its cells report the error."""
    def forward() -> object:
        raise RuntimeError(message)

    return Impl(name=name, forward=forward, backward=None)
