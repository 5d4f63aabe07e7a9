"""Offline datasets: small enough for a 2-core CPU, available without network.

Everything here is generated or ships with an installed package (scikit-learn
bundles the digits images; the text corpus is the Python standard library's
own source), so notebooks and graders never download anything. Every function
is deterministic in its ``seed``.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import math
import sysconfig
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

__all__ = [
    "IGNORE_INDEX",
    "CharTokenizer",
    "copy_task",
    "digits_loaders",
    "digits_tensors",
    "induction_task",
    "moons",
    "parity_task",
    "spirals",
    "stdlib_text",
    "swiss_roll_2d",
]

IGNORE_INDEX = -100
"""Target value for positions that carry no loss (``F.cross_entropy``'s default ``ignore_index``)."""


# --------------------------------------------------------------------------- digits


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    return images.astype(np.float64) / 16.0, labels.astype(np.int64)


def digits_tensors(
    val_fraction: float = 0.2,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[TensorDataset, TensorDataset]:
    """The 1797 8x8 handwritten digits, split into train and validation sets.

    Each dataset holds ``X`` of shape ``(N, 64)`` (pixels scaled to ``[0, 1]``)
    and ``y`` of shape ``(N,)`` (long, classes 0-9). The split is stratified, so
    both sets keep the class balance, and depends only on ``seed``. The
    validation set has ``ceil(val_fraction * 1797)`` examples (360 for 0.2).
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    images, labels = _digits_arrays()
    indices = np.arange(len(labels))
    if val_fraction > 0:
        from sklearn.model_selection import train_test_split

        train_idx, val_idx = train_test_split(indices, test_size=val_fraction, random_state=seed, stratify=labels)
    else:
        train_idx, val_idx = np.random.default_rng(seed).permutation(indices), indices[:0]

    def make(idx: np.ndarray) -> TensorDataset:
        X = torch.as_tensor(images[idx], dtype=dtype, device=device)  # (N, 64)
        y = torch.as_tensor(labels[idx], dtype=torch.long, device=device)  # (N,)
        return TensorDataset(X, y)

    return make(train_idx), make(val_idx)


def digits_loaders(
    batch_size: int = 64,
    val_fraction: float = 0.2,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[DataLoader, DataLoader]:
    """Train and validation loaders over :func:`digits_tensors`.

    The training loader reshuffles every epoch using its own generator seeded
    with ``seed``, so the batch order is reproducible without touching the
    global RNG. Tensors already live on ``device`` and ``num_workers=0``:
    the data is tiny, worker processes would only add start-up time.
    """
    train_set, val_set = digits_tensors(val_fraction=val_fraction, seed=seed, device=device)
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator, num_workers=0)
    val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False, num_workers=0)
    return train_loader, val_loader


# --------------------------------------------------------------------------- 2-D toys


def moons(n: int = 512, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles: ``X`` float32 ``(n, 2)``, ``y`` long ``(n,)`` in {0, 1}."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)


def swiss_roll_2d(n: int = 1024, noise: float = 0.5, seed: int = 0) -> torch.Tensor:
    """A 2-D swiss roll, float32 ``(n, 2)``, coordinates roughly in ``[-1, 1.5]``.

    The classic density-modelling toy (diffusion, flows). It is the (x, z)
    plane of scikit-learn's 3-D roll divided by 10, a fixed scale (rather than
    per-sample standardisation) so that different ``n`` give the same shape.
    """
    from sklearn.datasets import make_swiss_roll

    X, _ = make_swiss_roll(n_samples=n, noise=noise, random_state=seed)
    return torch.as_tensor(X[:, [0, 2]] / 10.0, dtype=torch.float32)


def spirals(n: int = 512, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``classes`` interleaved spiral arms: ``X`` float32 ``(n, 2)``, ``y`` long ``(n,)``.

    Not linearly separable, so it shows what hidden layers buy. Points are
    split as evenly as possible between classes (the first ``n % classes``
    classes get one more). ``noise`` is the standard deviation of the angle.
    """
    rng = np.random.default_rng(seed)
    counts = [n // classes + (c < n % classes) for c in range(classes)]
    xs, ys = [], []
    for c, count in enumerate(counts):
        radius = np.linspace(0.05, 1.0, count)
        angle = np.linspace(0.0, 4.0, count) + 2 * math.pi * c / classes + rng.normal(0, noise, count)
        xs.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        ys.append(np.full(count, c))
    X, y = np.concatenate(xs), np.concatenate(ys)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)


# --------------------------------------------------------------------------- sequences


def copy_task(n: int, seq_len: int, vocab: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token data for learning to copy a random sequence after a separator.

    With ``a`` random tokens in ``[1, vocab)`` (token 0 is the separator):
    ``x = [a_1 .. a_L, 0, a_1 .. a_{L-1}]`` and ``y = [-100 x L, a_1 .. a_L]``,
    both long ``(n, 2 * seq_len)``. ``y[:, t]`` is the token that follows
    ``x[:, t]``; the first half is unpredictable and marked ``IGNORE_INDEX``.
    """
    if vocab < 2:
        raise ValueError("copy_task needs vocab >= 2 (token 0 is the separator)")
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(1, vocab, (n, seq_len), generator=g)  # (n, L)
    sep = torch.zeros(n, 1, dtype=torch.long)
    x = torch.cat([a, sep, a[:, :-1]], dim=1)  # (n, 2L)
    y = torch.cat([torch.full((n, seq_len), IGNORE_INDEX), a], dim=1)  # (n, 2L)
    return x, y


def parity_task(n: int, seq_len: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random bit strings and their parity: ``x`` long ``(n, seq_len)`` in {0, 1}, ``y`` long ``(n,)``.

    Parity depends on every bit at once, a classic hard case for gradient
    descent and for attention without positional tricks.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 2, (n, seq_len), generator=g)  # (n, L)
    return x, x.sum(dim=1) % 2


def induction_task(n: int, seq_len: int, vocab: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random tokens followed by a repeat of them: the data that grows induction heads.

    ``x`` long ``(n, seq_len)`` is a random prefix of length ``h = ceil(seq_len / 2)``
    followed by its first ``seq_len - h`` tokens again. When ``h <= vocab`` the
    prefix has no repeated token, so in the second half every next token is
    determined by "find the previous occurrence of the current token, copy its
    successor". ``y`` long ``(n, seq_len)`` holds the next token at positions
    ``h .. seq_len - 2`` and ``IGNORE_INDEX`` elsewhere.
    """
    h = (seq_len + 1) // 2
    if seq_len < 2:
        raise ValueError("induction_task needs seq_len >= 2")
    g = torch.Generator().manual_seed(seed)
    if h <= vocab:
        prefix = torch.rand(n, vocab, generator=g).argsort(dim=1)[:, :h]  # (n, h), distinct tokens
    else:
        prefix = torch.randint(0, vocab, (n, h), generator=g)
    x = torch.cat([prefix, prefix[:, : seq_len - h]], dim=1)  # (n, seq_len)
    y = torch.full_like(x, IGNORE_INDEX)
    y[:, h:-1] = x[:, h + 1 :]
    return x, y


# --------------------------------------------------------------------------- text

DEFAULT_TEXT_MODULES = (
    "json", "csv", "argparse", "textwrap", "string", "heapq", "bisect",
    "functools", "dataclasses", "fractions", "statistics", "pathlib",
)  # fmt: skip


def _module_files(name: str) -> list[Path]:
    """Source files of a standard-library module, looked up in the stdlib directory first.

    Looking in ``sysconfig``'s stdlib path before importing means a student's
    ``json.py`` in the working directory cannot shadow the real module.
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = name.split(".")
    single, package = stdlib.joinpath(*parts).with_suffix(".py"), stdlib.joinpath(*parts)
    if single.is_file():
        return [single]
    if (package / "__init__.py").is_file():
        return sorted(p for p in package.glob("*.py"))
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ValueError(f"stdlib_text: module {name!r} not found")
    module = importlib.import_module(name)
    source = inspect.getsourcefile(module)
    if source is None:
        raise ValueError(f"stdlib_text: module {name!r} has no Python source")
    return [Path(source)]


def _label(path: Path) -> str:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return path.relative_to(stdlib).as_posix() if path.is_relative_to(stdlib) else path.name


def stdlib_text(max_chars: int = 200_000, modules: Sequence[str] = DEFAULT_TEXT_MODULES) -> str:
    """Python source code from the standard library, as a character-level corpus.

    Files are concatenated in the given module order (package files sorted by
    name), each preceded by a ``# ===== <path in the stdlib> =====`` line, and the
    result is cut at ``max_chars``. The text is identical between runs on the
    same Python version and needs no download.
    """
    pieces: list[str] = []
    total = 0
    for name in modules:
        for path in _module_files(name):
            piece = f"# ===== {_label(path)} =====\n" + path.read_text(encoding="utf-8")
            pieces.append(piece)
            total += len(piece)
            if total >= max_chars:
                return "".join(pieces)[:max_chars]
    return "".join(pieces)[:max_chars]


class CharTokenizer:
    """Maps each distinct character of a text to an integer id (sorted by code point)."""

    def __init__(self, text: str | None = None) -> None:
        self.chars: list[str] = []
        self.stoi: dict[str, int] = {}
        if text is not None:
            self.fit(text)

    def fit(self, text: str) -> CharTokenizer:
        """Build the vocabulary from ``text``; returns ``self`` for chaining."""
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        return self

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """Long tensor ``(len(text),)`` of ids; unknown characters raise ``ValueError``."""
        unknown = sorted(set(text) - self.stoi.keys())
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown[:10]!r}")
        return torch.tensor([self.stoi[ch] for ch in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor | Iterable[int]) -> str:
        """Inverse of :meth:`encode` for a 1-D tensor or a sequence of ids."""
        if isinstance(ids, torch.Tensor):
            ids = ids.flatten().tolist()
        return "".join(self.chars[i] for i in ids)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
