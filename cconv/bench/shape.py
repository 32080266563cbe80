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
``pad``        0         zero padding, any form ``conv2d`` takes (below)
``dilation``   1         ``d`` or ``DHxDW``
``groups``     1         channel groups (``groups=C`` is depthwise)
``name``       derived   the label shown in the table
=============  ========  ==================================================

``pad`` maps one-to-one onto ``conv2d``'s ``padding`` argument:

* ``pad=1`` is ``padding=1``: every side;
* ``pad=1x2`` is ``padding=(1, 2)``: ``PHxPW``, 1 on top and bottom, 2 left and right;
* ``pad=1,2,0,1`` is ``padding=((1, 2), (0, 1))``: top, bottom, left, right;
* ``pad=same`` is ``padding="same"``: output ``ceil(size / stride)``, the
  smaller half of the padding before (top, left);
* ``pad=valid`` is ``padding="valid"``: none.

A spec with ``D`` is a 3-D layer, timed through ``conv3d``:
``N=2,D=16,H=16,W=16,C=64,O=64,k=3,pad=1``; its ``k``, ``stride`` and
``dilation`` are ``3`` or ``KDxKHxKW``, and ``pad`` is ``p``, six per-side
values ``front,back,top,bottom,left,right``, ``same`` or ``valid``.

A spec without ``H`` but with ``W`` is a 1-D layer, timed through ``conv1d``:
``N=4,W=16000,C=1,O=512,k=10,stride=5``; its ``k``, ``stride`` and
``dilation`` are single numbers, and ``pad`` is ``p``, ``left,right``,
``same``, ``valid`` or ``causal``.

The per-side values are the one place where a value holds commas: the ones
after ``pad=`` belong to it, as they are not ``key=value`` pairs. The
table's legend writes each layer's padding back in this syntax, resolved
(``same`` as the sides it comes to), so a legend line is a ``--shape`` spec.
"""
from __future__ import annotations

import argparse
from typing import Any

from .suite import Layer, Pair, fmt_pair

_SHAPE_KEYS = {
    "n": "N", "d": "D", "h": "H", "w": "W", "c": "C", "o": "O",
    "k": "kernel", "kernel": "kernel",
    "stride": "stride", "pad": "padding", "padding": "padding",
    "dilation": "dilation", "groups": "groups", "name": "name",
}
_PAIR_FIELDS = ("kernel", "stride", "dilation")
_REQUIRED_FIELDS = ("H", "C", "O", "kernel")
EXAMPLE = "N=8,H=56,W=56,C=64,O=64,k=3,stride=1,pad=1"
#: The padding forms, as an error message lists them.
PAD_FORMS = "pad=1, pad=1x2 (PHxPW), pad=1,2,0,1 (top,bottom,left,right), pad=same or pad=valid"


class _Sides(tuple):  # type: ignore[type-arg]
    """``pad=left,right``: the two sides of a 1-D layer's one axis (a 2-D spec refuses it)."""


def _parse_int(key: str, text: str) -> int:
    """Parse a non-negative integer value of ``key``."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{key}={text!r} is not a non-negative integer")
    return int(text)


def _parse_pair(key: str, text: str) -> Any:
    """Parse ``"3"`` or ``"3x5"`` into a pair (``"3x3x1"``, a 3-D layer's triple, into a triple)."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2, 3):
        raise ValueError(f"{key}={text!r} must be an integer or HxW such as 3x5")
    values = [_parse_int(key, part) for part in parts]
    if len(values) == 3:
        return tuple(values)
    return (values[0], values[-1])


def _parse_padding(key: str, text: str) -> Any:
    """Parse a ``pad`` value into the ``padding`` argument conv2d takes for it:
    ``"same"``/``"valid"``, ``(ph, pw)``, or ``((top, bottom), (left, right))``."""
    mode = text.strip().lower()
    if mode in ("same", "valid", "causal"):
        return mode
    parts = text.split(",")
    try:
        if len(parts) == 2:   # left,right: 1-D only
            return _Sides(_parse_int(key, part) for part in parts)
        if len(parts) == 4:
            top, bottom, left, right = (_parse_int(key, part) for part in parts)
            return ((top, bottom), (left, right))
        if len(parts) == 6:   # front,back,top,bottom,left,right: 3-D only
            v = [_parse_int(key, part) for part in parts]
            return ((v[0], v[1]), (v[2], v[3]), (v[4], v[5]))
        if len(parts) == 1:
            pair = _parse_pair(key, text)
            if len(pair) == 2:      # (a "PDxPHxPW" triple is no pad form)
                return pair
    except ValueError:
        pass  # reported below with every form, not just the integer rule
    raise ValueError(f"{key}={text!r} is not a padding; give one of {PAD_FORMS}")


def _split_items(text: str) -> list[tuple[str, str]]:
    """Split a spec into ``(key, value)`` pairs at its commas, except that an
    item without ``=`` right after ``pad=`` continues the padding's value
    (``pad=1,2,0,1``)."""
    items: list[list[str]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        if sep and value:
            items.append([key, value])
        elif not sep and items and _SHAPE_KEYS.get(items[-1][0].lower()) == "padding":
            items[-1][1] += "," + item
        else:
            raise ValueError(f"{item!r} is not of the form key=value")
    return [(key, value) for key, value in items]


def _parse_shape_fields(text: str) -> dict[str, Any]:
    """Split a ``key=value,...`` spec into ``Layer.make`` keyword arguments."""
    fields: dict[str, Any] = {}
    for key, value in _split_items(text):
        name = _SHAPE_KEYS.get(key.lower())
        if name is None:
            raise ValueError(f"unknown key {key!r}; known keys: N, H, W, C, O, k, stride, pad, "
                             "dilation, groups, name")
        if name in fields:
            raise ValueError(f"key {key!r} given twice")
        if name == "name":
            fields[name] = value
        elif name == "padding":
            fields[name] = _parse_padding(key, value)
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


def _parse_3d(fields: dict[str, Any]) -> Layer:
    """A 3-D layer from parsed fields with D (``k``, ``stride``, ``dilation``: one number or a triple)."""
    missing = [key if key != "kernel" else "k" for key in ("H", "C", "O", "kernel") if key not in fields]
    if missing:
        raise ValueError(f"missing required key(s): {', '.join(missing)}")
    for key in _PAIR_FIELDS:
        value = fields.get(key)
        if isinstance(value, tuple) and len(value) == 2:
            if value[0] != value[1]:
                raise ValueError(f"a 3-D layer (with D) takes {key}=n or KDxKHxKW; got {value[0]}x{value[1]}")
            fields[key] = value[0]
    padding = fields.get("padding", 0)
    if isinstance(padding, tuple) and len(padding) == 2 and padding[0] == padding[1] and isinstance(padding[0], int):
        fields["padding"] = padding[0]      # pad=p
    elif isinstance(padding, tuple) and len(padding) != 3:
        raise ValueError("a 3-D layer (with D) takes pad=p, front,back,top,bottom,left,right, same or valid")
    fields.setdefault("W", fields["H"])
    name = fields.pop("name", None) or f"shape-{fields['D']}x{fields['H']}x{fields['W']}x{fields['C']}-{fields['O']}"
    return Layer.make3d(name, **fields)


def _parse_1d(fields: dict[str, Any]) -> Layer:
    """A 1-D layer from parsed fields without H (``k``, ``stride``, ``dilation`` single numbers)."""
    missing = [key if key != "kernel" else "k" for key in ("C", "O", "kernel") if key not in fields]
    if missing:
        raise ValueError(f"missing required key(s): {', '.join(missing)}")
    for key in _PAIR_FIELDS:
        if key in fields:
            first, last = fields[key]
            if first != last:
                raise ValueError(f"a 1-D layer (no H) takes one {key} number; got {first}x{last}")
            fields[key] = last
    padding = fields.get("padding", 0)
    if isinstance(padding, tuple) and not isinstance(padding, _Sides):
        if isinstance(padding[0], tuple) or padding[0] != padding[1]:
            raise ValueError("a 1-D layer (no H) takes pad=p, pad=left,right, same, valid or causal")
        fields["padding"] = padding[0]
    elif isinstance(padding, _Sides):
        fields["padding"] = tuple(padding)
    name = fields.pop("name", None) or (f"shape-{fields['W']}x{fields['C']}-{fields['O']}-k{fields['kernel']}"
                                        f"{'s%d' % fields['stride'] if fields.get('stride', 1) != 1 else ''}")
    return Layer.make1d(name, **fields)


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
        fields.setdefault("N", 1)
        if "D" in fields:
            return _parse_3d(fields)
        if "H" not in fields and "W" in fields:
            return _parse_1d(fields)
        missing = [key if key != "kernel" else "k" for key in _REQUIRED_FIELDS if key not in fields]
        if missing:
            raise ValueError(f"missing required key(s): {', '.join(missing)}")
        if isinstance(fields.get("padding"), _Sides):
            sides = ",".join(str(v) for v in fields["padding"])
            raise ValueError(f"pad={sides!r} (left,right) is for a 1-D layer (no H); give one of {PAD_FORMS}")
        fields.setdefault("W", fields["H"])
        name = fields.pop("name", None) or _default_name(fields)
        layer = Layer.make(name, **fields)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"bad shape spec {text!r}: {exc} (example: {EXAMPLE})") from None
    return layer
