# MUTANT: rnn_cell
# WHY: adds only one of the two biases, forgetting the hidden-state bias.
# %%
# GRADED: rnn_cell
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T)
