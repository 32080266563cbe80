"""The exact public API: names, parameter kinds and defaults (users and tests rely on them)."""
import inspect

import numpy as np
import pytest

import cconv

P = inspect.Parameter
POS = P.POSITIONAL_OR_KEYWORD
KW = P.KEYWORD_ONLY
E = P.empty

GEOMETRY = [("stride", KW, 1), ("padding", KW, 0), ("padding_mode", KW, "zeros"), ("dilation", KW, 1), ("groups", KW, 1),
            ("layout", KW, "NHWC")]
# im2col and col2im fold and unfold zero padding only.
PATCH_GEOMETRY = [p for p in GEOMETRY if p[0] not in ("padding_mode", "groups")]
THREADS = [("num_threads", KW, None)]
ALGORITHM = [("algorithm", KW, "auto")]

SIGNATURES = {
    "conv2d": [("x", POS, E), ("weight", POS, E), ("bias", POS, None)] + GEOMETRY + THREADS + ALGORITHM,
    "conv2d_backward": [("grad_out", POS, E), ("x", POS, E), ("weight", POS, E)] + GEOMETRY + THREADS + ALGORITHM,
    "conv2d_grad_input": [("grad_out", POS, E), ("weight", POS, E), ("input_shape", POS, E)] + GEOMETRY + THREADS + ALGORITHM,
    "conv2d_grad_weight": [("grad_out", POS, E), ("x", POS, E), ("weight_shape", POS, E)] + GEOMETRY + THREADS + ALGORITHM,
    "im2col": [("x", POS, E), ("kernel_size", POS, E)] + PATCH_GEOMETRY + THREADS,
    "col2im": [("cols", POS, E), ("input_shape", POS, E), ("kernel_size", POS, E)] + PATCH_GEOMETRY + THREADS,
    "output_shape": [("input_shape", POS, E), ("weight_shape", POS, E)] + GEOMETRY,
    "select_algorithm": [("input_shape", POS, E), ("weight_shape", POS, E)] + GEOMETRY + ALGORITHM,
}

# The 1-D functions: the keywords of their 2-D counterparts, with the native 1-D layout as default.
GEOMETRY_1D = [(n, k, "NWC" if n == "layout" else d) for n, k, d in GEOMETRY]
TRANSPOSED_1D = [("stride", KW, 1), ("padding", KW, 0), ("output_padding", KW, 0), ("dilation", KW, 1),
                 ("groups", KW, 1), ("layout", KW, "NWC")]
SIGNATURES_1D = {
    "conv1d": [("x", POS, E), ("weight", POS, E), ("bias", POS, None)] + GEOMETRY_1D + THREADS + ALGORITHM,
    "conv1d_backward": [("grad_out", POS, E), ("x", POS, E), ("weight", POS, E)] + GEOMETRY_1D + THREADS + ALGORITHM,
    "conv1d_grad_input": [("grad_out", POS, E), ("weight", POS, E), ("input_shape", POS, E)] + GEOMETRY_1D
    + THREADS + ALGORITHM,
    "conv1d_grad_weight": [("grad_out", POS, E), ("x", POS, E), ("weight_shape", POS, E)] + GEOMETRY_1D
    + THREADS + ALGORITHM,
    "conv1d_output_shape": [("input_shape", POS, E), ("weight_shape", POS, E)] + GEOMETRY_1D,
    "conv_transpose1d": [("x", POS, E), ("weight", POS, E), ("bias", POS, None)] + TRANSPOSED_1D + THREADS,
    "conv_transpose1d_backward": [("grad_out", POS, E), ("x", POS, E), ("weight", POS, E)] + TRANSPOSED_1D
    + THREADS,
}


# The 3-D functions: the keywords of their 2-D counterparts, with the native 3-D layout as default.
GEOMETRY_3D = [(n, k, "NDHWC" if n == "layout" else d) for n, k, d in GEOMETRY]
SIGNATURES_3D = {
    "conv3d": [("x", POS, E), ("weight", POS, E), ("bias", POS, None)] + GEOMETRY_3D + THREADS + ALGORITHM,
    "conv3d_backward": [("grad_out", POS, E), ("x", POS, E), ("weight", POS, E)] + GEOMETRY_3D + THREADS + ALGORITHM,
    "conv3d_grad_input": [("grad_out", POS, E), ("weight", POS, E), ("input_shape", POS, E)] + GEOMETRY_3D
    + THREADS + ALGORITHM,
    "conv3d_grad_weight": [("grad_out", POS, E), ("x", POS, E), ("weight_shape", POS, E)] + GEOMETRY_3D
    + THREADS + ALGORITHM,
    "conv3d_output_shape": [("input_shape", POS, E), ("weight_shape", POS, E)] + GEOMETRY_3D,
}
TRANSPOSED_3D = [(n, k, "NDHWC" if n == "layout" else d) for n, k, d in TRANSPOSED_1D]
SIGNATURES_3D.update({
    "conv_transpose3d": [("x", POS, E), ("weight", POS, E), ("bias", POS, None)] + TRANSPOSED_3D + THREADS,
    "conv_transpose3d_backward": [("grad_out", POS, E), ("x", POS, E), ("weight", POS, E)] + TRANSPOSED_3D
    + THREADS,
    "conv_transpose3d_output_shape": [("input_shape", POS, E), ("weight_shape", POS, E)] + TRANSPOSED_3D,
})


@pytest.mark.parametrize("name", list(SIGNATURES_3D))
def test_3d_function_signature(name):
    assert _params(getattr(cconv, name)) == SIGNATURES_3D[name]


@pytest.mark.parametrize("name", ["conv3d", "conv3d_backward", "conv3d_grad_input", "conv3d_grad_weight"])
def test_reference_has_the_3d_signatures(name):
    ref = pytest.importorskip("cconv.reference")
    assert _params(getattr(ref, name)) == [p for p in SIGNATURES_3D[name] if p[0] != "algorithm"]


@pytest.mark.parametrize("layer_3d,layer_2d", [("Conv3D", "Conv2D"), ("ConvTranspose3D", "ConvTranspose2D")])
def test_3d_layer_signatures_mirror_the_2d_layers(layer_3d, layer_2d):
    three = [(n, k, d) for n, k, d in _params(getattr(cconv, layer_3d).__init__) if n != "self"]
    two = [(n, k, "NDHWC" if n == "layout" else d) for n, k, d in _params(getattr(cconv, layer_2d).__init__)
           if n != "self"]
    assert three == two


@pytest.mark.parametrize("name", list(SIGNATURES_1D))
def test_1d_function_signature(name):
    assert _params(getattr(cconv, name)) == SIGNATURES_1D[name]


@pytest.mark.parametrize("name_1d,name_2d", [("conv1d", "conv2d"), ("conv1d_backward", "conv2d_backward"),
                                             ("conv1d_grad_input", "conv2d_grad_input"),
                                             ("conv1d_grad_weight", "conv2d_grad_weight"),
                                             ("conv1d_output_shape", "output_shape"),
                                             ("conv_transpose1d", "conv_transpose2d"),
                                             ("conv_transpose1d_backward", "conv_transpose2d_backward")])
def test_1d_functions_take_the_keywords_of_their_2d_counterparts(name_1d, name_2d):
    strip = lambda ps: [(n, k) for n, k, _ in ps]  # noqa: E731
    assert strip(_params(getattr(cconv, name_1d))) == strip(_params(getattr(cconv, name_2d)))


@pytest.mark.parametrize("layer_1d,layer_2d", [("Conv1D", "Conv2D"), ("ConvTranspose1D", "ConvTranspose2D")])
def test_1d_layer_signatures_mirror_the_2d_layers(layer_1d, layer_2d):
    one = [(n, k, d) for n, k, d in _params(getattr(cconv, layer_1d).__init__) if n != "self"]
    two = [(n, k, "NWC" if n == "layout" else d) for n, k, d in _params(getattr(cconv, layer_2d).__init__)
           if n != "self"]
    assert one == two
    for method in ("forward", "__call__", "backward"):
        assert callable(getattr(getattr(cconv, layer_1d), method))


@pytest.mark.parametrize("name", ["conv1d", "conv1d_backward", "conv1d_grad_input", "conv1d_grad_weight"])
def test_reference_has_the_1d_signatures(name):
    ref = pytest.importorskip("cconv.reference")
    assert _params(getattr(ref, name)) == [p for p in SIGNATURES_1D[name] if p[0] != "algorithm"]
    assert "unbatched" in getattr(ref, name).__doc__


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_function_signature(name):
    assert _params(getattr(cconv, name)) == SIGNATURES[name]


def test_conv2d_layer_signature():
    params = [(n, k, d) for n, k, d in _params(cconv.Conv2D.__init__) if n != "self"]
    assert params == [("in_channels", POS, E), ("out_channels", POS, E), ("kernel_size", POS, E),
                      ("stride", KW, 1), ("padding", KW, 0), ("padding_mode", KW, "zeros"), ("dilation", KW, 1),
                      ("groups", KW, 1), ("bias", KW, True), ("layout", KW, "NHWC"), ("dtype", KW, np.float32), ("rng", KW, None)]
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
                     "conv_transpose2d_output_shape", "im2col", "col2im", "conv1d", "conv1d_backward",
                     "conv1d_grad_input", "conv1d_grad_weight", "conv1d_output_shape", "conv_transpose1d",
                     "conv_transpose1d_backward", "conv3d", "conv3d_backward", "conv3d_grad_input",
                     "conv3d_grad_weight", "conv3d_output_shape", "conv_transpose3d",
                     "conv_transpose3d_backward", "conv_transpose3d_output_shape"]


@pytest.mark.parametrize("name", TAKES_ACTIVATIONS)
def test_docstring_says_unbatched_input_is_accepted(name):
    assert "unbatched" in getattr(cconv, name).__doc__, name


@pytest.mark.parametrize("name", ["conv2d", "conv2d_backward", "conv2d_grad_input", "conv2d_grad_weight", "im2col",
                                  "col2im"])
def test_reference_docstring_says_unbatched_input_is_accepted(name):
    ref = pytest.importorskip("cconv.reference")
    assert "unbatched" in getattr(ref, name).__doc__, name


@pytest.mark.parametrize("layer", ["Conv2D", "ConvTranspose2D", "Conv1D", "ConvTranspose1D", "Conv3D",
                                   "ConvTranspose3D"])
def test_layer_docstrings_say_unbatched_input_is_accepted(layer):
    cls = getattr(cconv, layer)
    assert "unbatched" in cls.forward.__doc__ and "unbatched" in cls.backward.__doc__


def test_dask_docstrings_say_unbatched_input_is_accepted():
    cdask = pytest.importorskip("cconv.dask")
    assert "unbatched" in cdask.conv2d.__doc__ and "unbatched" in cdask.conv2d_backward.__doc__
