"""The exact public API: names, parameter kinds and defaults (users and tests rely on them)."""
import inspect

import numpy as np
import pytest

import cconv

P = inspect.Parameter
POS = P.POSITIONAL_OR_KEYWORD
KW = P.KEYWORD_ONLY
E = P.empty

GEOMETRY = [("stride", KW, 1), ("padding", KW, 0), ("dilation", KW, 1), ("groups", KW, 1), ("layout", KW, "NHWC")]
THREADS = [("num_threads", KW, None)]
ALGORITHM = [("algorithm", KW, "auto")]

SIGNATURES = {
    "conv2d": [("x", POS, E), ("weight", POS, E), ("bias", POS, None)] + GEOMETRY + THREADS + ALGORITHM,
    "conv2d_backward": [("grad_out", POS, E), ("x", POS, E), ("weight", POS, E)] + GEOMETRY + THREADS + ALGORITHM,
    "conv2d_grad_input": [("grad_out", POS, E), ("weight", POS, E), ("input_shape", POS, E)] + GEOMETRY + THREADS + ALGORITHM,
    "conv2d_grad_weight": [("grad_out", POS, E), ("x", POS, E), ("weight_shape", POS, E)] + GEOMETRY + THREADS + ALGORITHM,
    "im2col": [("x", POS, E), ("kernel_size", POS, E), ("stride", KW, 1), ("padding", KW, 0), ("dilation", KW, 1),
               ("layout", KW, "NHWC")] + THREADS,
    "col2im": [("cols", POS, E), ("input_shape", POS, E), ("kernel_size", POS, E), ("stride", KW, 1),
               ("padding", KW, 0), ("dilation", KW, 1), ("layout", KW, "NHWC")] + THREADS,
    "output_shape": [("input_shape", POS, E), ("weight_shape", POS, E)] + GEOMETRY,
    "select_algorithm": [("input_shape", POS, E), ("weight_shape", POS, E)] + GEOMETRY + ALGORITHM,
}


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_function_signature(name):
    assert _params(getattr(cconv, name)) == SIGNATURES[name]


def test_conv2d_layer_signature():
    params = [(n, k, d) for n, k, d in _params(cconv.Conv2D.__init__) if n != "self"]
    assert params == [("in_channels", POS, E), ("out_channels", POS, E), ("kernel_size", POS, E),
                      ("stride", KW, 1), ("padding", KW, 0), ("dilation", KW, 1), ("groups", KW, 1),
                      ("bias", KW, True), ("layout", KW, "NHWC"), ("dtype", KW, np.float32), ("rng", KW, None)]
    for method in ("forward", "__call__", "backward"):
        assert callable(getattr(cconv.Conv2D, method))


@pytest.mark.parametrize("name", ["get_num_threads", "set_num_threads", "openmp_enabled"])
def test_thread_functions_exist(name):
    assert callable(getattr(cconv, name))


@pytest.mark.parametrize("name", ["conv2d", "conv2d_backward", "conv2d_grad_input", "conv2d_grad_weight", "im2col",
                                  "col2im"])
def test_reference_has_the_same_signatures(name):
    ref = pytest.importorskip("cconv.reference")
    # The reference has one algorithm, the direct NumPy one: no ``algorithm`` keyword.
    assert _params(getattr(ref, name)) == [p for p in SIGNATURES[name] if p[0] != "algorithm"]


# Every function that takes an activation (x, grad_out or input_shape) also takes it unbatched,
# and its docstring says so.
TAKES_ACTIVATIONS = ["conv2d", "conv2d_backward", "conv2d_grad_input", "conv2d_grad_weight", "output_shape",
                     "select_algorithm", "conv_transpose2d", "conv_transpose2d_backward",
                     "conv_transpose2d_output_shape", "im2col", "col2im"]


@pytest.mark.parametrize("name", TAKES_ACTIVATIONS)
def test_docstring_says_unbatched_input_is_accepted(name):
    assert "unbatched" in getattr(cconv, name).__doc__, name


@pytest.mark.parametrize("name", ["conv2d", "conv2d_backward", "conv2d_grad_input", "conv2d_grad_weight", "im2col",
                                  "col2im"])
def test_reference_docstring_says_unbatched_input_is_accepted(name):
    ref = pytest.importorskip("cconv.reference")
    assert "unbatched" in getattr(ref, name).__doc__, name


@pytest.mark.parametrize("layer", ["Conv2D", "ConvTranspose2D"])
def test_layer_docstrings_say_unbatched_input_is_accepted(layer):
    cls = getattr(cconv, layer)
    assert "unbatched" in cls.forward.__doc__ and "unbatched" in cls.backward.__doc__


def test_dask_docstrings_say_unbatched_input_is_accepted():
    cdask = pytest.importorskip("cconv.dask")
    assert "unbatched" in cdask.conv2d.__doc__ and "unbatched" in cdask.conv2d_backward.__doc__
