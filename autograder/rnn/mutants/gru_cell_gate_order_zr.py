# MUTANT: gru_cell
# WHY: reads the GRU's gates from the weights in the wrong order (update before reset).
# %%
# GRADED: gru_cell
import torch


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[-1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    r = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    z = torch.sigmoid(gi[:, :H] + gh[:, :H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h
