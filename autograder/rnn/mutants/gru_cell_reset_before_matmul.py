# MUTANT: gru_cell
# WHY: applies the reset gate to the hidden state before the weight multiplication instead of after it.
# %%
# GRADED: gru_cell
import torch


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[-1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + (r * h) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1 - z) * n + z * h
