"""Small reference models shared by assignments.

The parameter names (``input.*``, ``hidden.<i>.*``, ``output.*``) are part of
the API: muP parameter groups are chosen by name (input, hidden and output
layers scale differently with width), and tests load weights by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLP"]


class MLP(nn.Module):
    """A ReLU multilayer perceptron: input layer, ``n_hidden`` width x width layers, output layer.

    Args:
        in_dim: number of input features.
        width: size of every hidden representation (the muP "width").
        out_dim: number of outputs (e.g. classes; outputs are logits).
        n_hidden: number of ``width -> width`` layers between input and output.
        bias: whether the linear layers have biases.
    """

    def __init__(self, in_dim: int, width: int, out_dim: int, n_hidden: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.width = width
        self.out_dim = out_dim
        self.input = nn.Linear(in_dim, width, bias=bias)
        self.hidden = nn.ModuleList([nn.Linear(width, width, bias=bias) for _ in range(n_hidden)])
        self.output = nn.Linear(width, out_dim, bias=bias)

    def forward(
        self, x: torch.Tensor, return_activations: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Return logits ``(..., out_dim)`` for ``x`` of shape ``(..., in_dim)``.

        With ``return_activations=True`` also return the list
        ``[after input layer, after hidden 1, ..., after hidden n, logits]``
        (``n_hidden + 2`` tensors; hidden ones are post-ReLU, shape ``(..., width)``).
        A muP coordinate check plots their mean ``|.|`` against width: under a
        correct parametrisation they stay flat as width grows.
        """
        h = F.relu(self.input(x))  # (..., width)
        activations = [h]
        for layer in self.hidden:
            h = F.relu(layer(h))  # (..., width)
            activations.append(h)
        logits = self.output(h)  # (..., out_dim)
        if return_activations:
            activations.append(logits)
            return logits, activations
        return logits

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, width={self.width}, out_dim={self.out_dim}, n_hidden={len(self.hidden)}"
