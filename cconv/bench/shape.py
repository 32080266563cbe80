"""``--shape``: a layer of your own, written as ``key=value`` pairs.

The spec is comma-separated ``key=value`` pairs (keys are case-insensitive);
``--shape`` may be repeated, and when it is given only those layers run:

=============  ========  ==================================================
key            default   meaning
=============  ========  ==================================================
``H``          required  input height
``C``          required  input channels
``O``          required  output channels
``k``          required  kernel size, ``3`` or ``KHxKW`` such as ``3x5``
``N``          1         batch size
``W``          ``H``     input width
``stride``     1         ``s`` or ``SHxSW``
``pad``        0         symmetric zero padding, ``p`` or ``PHxPW``
``dilation``   1         ``d`` or ``DHxDW``
``groups``     1         channel groups (``groups=C`` is depthwise)
``name``       derived   the label shown in the table
=============  ========  ==================================================
"""
from __future__ import annotations

import argparse
from typing import Any

from .suite import Layer, Pair, fmt_pair

_SHAPE_KEYS = {
    "n": "N", "h": "H", "w": "W", "c": "C", "o": "O",
    "k": "kernel", "kernel": "kernel",
    "stride": "stride", "pad": "padding", "padding": "padding",
    "dilation": "dilation", "groups": "groups", "name": "name",
}
_PAIR_FIELDS = ("kernel", "stride", "padding", "dilation")
_REQUIRED_FIELDS = ("H", "C", "O", "kernel")
EXAMPLE = "N=8,H=56,W=56,C=64,O=64,k=3,stride=1,pad=1"


def _parse_int(key: str, text: str) -> int:
    """Parse a non-negative integer value of ``key``."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{key}={text!r} is not a non-negative integer")
    return int(text)


def _parse_pair(key: str, text: str) -> Pair:
    """Parse ``"3"`` or ``"3x5"`` into a pair."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2):
        raise ValueError(f"{key}={text!r} must be an integer or HxW such as 3x5")
    values = [_parse_int(key, part) for part in parts]
    return (values[0], values[-1])


def _parse_shape_fields(text: str) -> dict[str, Any]:
    """Split a ``key=value,...`` spec into ``Layer.make`` keyword arguments."""
    fields: dict[str, Any] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not value:
            raise ValueError(f"{item!r} is not of the form key=value")
        name = _SHAPE_KEYS.get(key.lower())
        if name is None:
            raise ValueError(f"unknown key {key!r}; known keys: N, H, W, C, O, k, stride, pad, "
                             "dilation, groups, name")
        if name in fields:
            raise ValueError(f"key {key!r} given twice")
        if name == "name":
            fields[name] = value
        elif name in _PAIR_FIELDS:
            fields[name] = _parse_pair(key, value)
        else:
            fields[name] = _parse_int(key, value)
    return fields


def _default_name(fields: dict[str, Any]) -> str:
    """A readable label for a user layer without ``name=``."""
    name = f"shape-{fields['H']}x{fields['W']}x{fields['C']}-{fields['O']}-k{fmt_pair(fields['kernel'])}"
    for key, tag in (("stride", "s"), ("dilation", "d")):
        if fields.get(key, (1, 1)) != (1, 1):
            name += f"{tag}{fmt_pair(fields[key])}"
    if fields.get("groups", 1) != 1:
        name += f"g{fields['groups']}"
    return name


def parse_shape_spec(text: str) -> Layer:
    """Parse a ``--shape`` spec such as ``N=8,H=56,W=56,C=64,O=64,k=3,pad=1``.

    Parameters
    ----------
    text : str
        Comma-separated ``key=value`` pairs (see the module docstring).

    Returns
    -------
    Layer
        The validated layer.

    Raises
    ------
    argparse.ArgumentTypeError
        With a message that says what is wrong, for argparse to report.
    """
    try:
        fields = _parse_shape_fields(text)
        missing = [key if key != "kernel" else "k" for key in _REQUIRED_FIELDS if key not in fields]
        if missing:
            raise ValueError(f"missing required key(s): {', '.join(missing)}")
        fields.setdefault("N", 1)
        fields.setdefault("W", fields["H"])
        name = fields.pop("name", None) or _default_name(fields)
        layer = Layer.make(name, **fields)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"bad shape spec {text!r}: {exc} (example: {EXAMPLE})") from None
    return layer
