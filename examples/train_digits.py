"""Train a small CNN on scikit-learn's 8x8 handwritten digits with cconv.Conv2D.

The network is

    8x8x1 -> Conv2D(1->16, 3x3, pad 1) -> ReLU -> 2x2 max-pool      -> 4x4x16
          -> Conv2D(16->32, 3x3, pad 1) -> ReLU -> 2x2 max-pool     -> 2x2x32
          -> flatten (128) -> dense (128->10) -> softmax cross-entropy

trained with plain mini-batch SGD (no momentum, no weight decay). The two
convolutions run forward and backward through ``cconv.Conv2D`` (NHWC); the
pooling, the dense layer and the softmax are a few lines of NumPy below. The
second convolution's input gradient flows back into the first, so reaching a
high test accuracy exercises every gradient cconv computes: grad_input,
grad_weight and grad_bias.

The data set (1797 images shipped with scikit-learn, no download) is split
75/25 into training and test images, stratified, with a fixed seed. The run
is deterministic for a given seed and thread count.

Usage::

    python examples/train_digits.py --out digits_training.png

It prints one line per epoch and ends with a machine-readable line::

    test_accuracy=0.9733 seconds=6.1
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import cconv


# --------------------------------------------------------------------------- data


def load_split(seed: int):
    """Return ``(x_train, y_train, x_test, y_test)``: NHWC float32 images in [0, 1] and int labels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]  # (1797, 8, 8, 1)
    return train_test_split(images, digits.target, test_size=0.25, random_state=seed,
                            stratify=digits.target)


# --------------------------------------------------------------------------- NumPy layers


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``."""
    return np.maximum(x, 0)


def relu_backward(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of ReLU at its input ``x``."""
    return grad * (x > 0)


def _windows(x: np.ndarray) -> np.ndarray:
    """View an NHWC array (even H, W) as (N, H/2, W/2, C, 4) non-overlapping 2x2 windows."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, h // 2, w // 2, c, 4)


def maxpool_forward(x: np.ndarray):
    """2x2 max-pool with stride 2 of an NHWC array; returns ``(y, argmax)`` for the backward pass."""
    win = _windows(x)
    index = win.argmax(axis=-1)[..., np.newaxis]
    return np.take_along_axis(win, index, axis=-1)[..., 0], index


def maxpool_backward(grad: np.ndarray, index: np.ndarray, input_shape) -> np.ndarray:
    """Route each pooled gradient to the (first) maximum of its window."""
    n, h, w, c = input_shape
    win = np.zeros((n, h // 2, w // 2, c, 4), dtype=grad.dtype)
    np.put_along_axis(win, index, grad[..., np.newaxis], axis=-1)
    return win.reshape(n, h // 2, w // 2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(n, h, w, c)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy of ``softmax(logits)`` and its gradient with respect to ``logits``."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss = -log_probs[rows, labels].mean()
    grad = np.exp(log_probs)
    grad[rows, labels] -= 1.0
    return float(loss), grad / len(labels)


class Dense:
    """Fully connected layer ``x @ weight + bias`` with He-initialised weights."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator):
        self.weight = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        self.bias = np.zeros(n_out, dtype=np.float32)
        self.grad_weight = self.grad_bias = None
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``x @ weight + bias`` and keep ``x`` for ``backward``."""
        self._x = x
        return x @ self.weight + self.bias

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Set ``grad_weight``/``grad_bias``; return the gradient of the input."""
        self.grad_weight = self._x.T @ grad
        self.grad_bias = grad.sum(axis=0)
        return grad @ self.weight.T


# --------------------------------------------------------------------------- the network


class DigitsCNN:
    """conv-relu-pool, conv-relu-pool, dense; the convolutions are ``cconv.Conv2D``."""

    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        self.conv1 = cconv.Conv2D(1, 16, 3, padding=1, rng=rng)
        self.conv2 = cconv.Conv2D(16, 32, 3, padding=1, rng=rng)
        self.dense = Dense(2 * 2 * 32, 10, rng)
        self.layers = (self.conv1, self.conv2, self.dense)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits (N, 10) of NHWC images (N, 8, 8, 1); keeps what ``backward`` needs."""
        self.a1 = self.conv1.forward(x)
        p1, self.i1 = maxpool_forward(relu_forward(self.a1))
        self.a2 = self.conv2.forward(p1)
        p2, self.i2 = maxpool_forward(relu_forward(self.a2))
        self.p2_shape = p2.shape
        return self.dense.forward(p2.reshape(len(x), -1))

    def backward(self, grad_logits: np.ndarray) -> None:
        """Backpropagate the loss gradient; sets every layer's ``grad_weight``/``grad_bias``."""
        g = self.dense.backward(grad_logits).reshape(self.p2_shape)
        g = relu_backward(maxpool_backward(g, self.i2, self.a2.shape), self.a2)
        g = self.conv2.backward(g)
        g = relu_backward(maxpool_backward(g, self.i1, self.a1.shape), self.a1)
        self.conv1.backward(g)

    def sgd_step(self, lr: float) -> None:
        """Plain SGD: ``param -= lr * grad`` for every weight and bias."""
        for layer in self.layers:
            layer.weight -= lr * layer.grad_weight
            layer.bias -= lr * layer.grad_bias

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class of each image."""
        return self.forward(x).argmax(axis=1)


# --------------------------------------------------------------------------- training


def train(epochs: int, batch_size: int, lr: float, seed: int, log=print) -> dict:
    """Train on the digits and return the history and final test accuracy.

    Returns
    -------
    dict
        ``loss``, ``train_accuracy`` and ``test_accuracy`` (lists, one value per
        epoch), ``final_test_accuracy``, ``seconds`` (training wall time) and
        ``sizes`` (training and test set sizes).
    """
    x_train, x_test, y_train, y_test = load_split(seed)
    model = DigitsCNN(seed)
    order_rng = np.random.default_rng(seed + 1)
    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = order_rng.permutation(len(x_train))
        losses, correct = [], 0
        # Full batches only: a last batch of a few images would take a full-size, much noisier
        # step. The leftover images differ from epoch to epoch as the order is reshuffled.
        seen = len(order) - len(order) % batch_size or len(order)
        for begin in range(0, seen, batch_size):
            batch = order[begin:begin + batch_size]
            logits = model.forward(x_train[batch])
            loss, grad = softmax_cross_entropy(logits, y_train[batch])
            model.backward(grad)
            model.sgd_step(lr)
            losses.append(loss * len(batch))
            correct += int((logits.argmax(axis=1) == y_train[batch]).sum())
        history["loss"].append(sum(losses) / seen)
        history["train_accuracy"].append(correct / seen)
        history["test_accuracy"].append(float((model.predict(x_test) == y_test).mean()))
        log(f"epoch {epoch:2d}/{epochs}  loss {history['loss'][-1]:.4f}  "
            f"train acc {history['train_accuracy'][-1]:.4f}  test acc {history['test_accuracy'][-1]:.4f}  "
            f"({time.perf_counter() - start:.1f} s)")
    history["seconds"] = time.perf_counter() - start
    history["final_test_accuracy"] = history["test_accuracy"][-1]
    history["sizes"] = (len(x_train), len(x_test))
    return history


def plot_history(history: dict, path: str) -> None:
    """Write a PNG with the training loss and the train/test accuracy per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    ax_loss.plot(epochs, history["loss"], "o-", color="#1f77b4")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("mean cross-entropy (training set)")
    ax_loss.set_yscale("log")
    ax_loss.set_title("training loss")
    ax_loss.grid(alpha=0.3, which="both")
    ax_acc.plot(epochs, np.array(history["train_accuracy"]) * 100, "o-", label="train (during the epoch)",
                color="#1f77b4")
    ax_acc.plot(epochs, np.array(history["test_accuracy"]) * 100, "s-", label="test", color="#ff7f0e")
    ax_acc.axhline(95, color="gray", linestyle="--", linewidth=1, label="95% target")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_ylim(max(0, min(min(history["test_accuracy"]), min(history["train_accuracy"])) * 100 - 5), 100.5)
    ax_acc.set_title(f"accuracy (final test: {history['final_test_accuracy'] * 100:.2f}%)")
    ax_acc.legend(loc="lower right")
    ax_acc.grid(alpha=0.3)
    n_train, n_test = history["sizes"]
    threads = cconv.get_num_threads()
    fig.suptitle(f"Small CNN (2 x cconv.Conv2D + NumPy pooling/dense/softmax) on scikit-learn's 8x8 digits\n"
                 f"{n_train} train / {n_test} test images, plain SGD, {len(epochs)} epochs in "
                 f"{history['seconds']:.1f} s on {threads} thread{'s' if threads > 1 else ''}")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    """Command line: train, print per-epoch figures and the final accuracy, write the plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="digits_training.png", help="loss/accuracy PNG to write")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="cconv threads (default 1: the layers are so small that a thread team "
                             "costs more than it saves)")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if not args.lr > 0:
        parser.error(f"--lr must be > 0; got {args.lr}")
    cconv.set_num_threads(args.threads)
    history = train(args.epochs, args.batch_size, args.lr, args.seed)
    plot_history(history, args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    print(f"test_accuracy={history['final_test_accuracy']:.4f} seconds={history['seconds']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
