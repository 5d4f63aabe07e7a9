# MUTANT: rnn_cell
# WHY: only b_ih is added: the hidden bias b_hh is forgotten
# %%
# GRADED: rnn_cell
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T)
