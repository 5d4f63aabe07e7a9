# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    hs = h.shape[1]
    lin = x @ W_ih.T + h @ W_hh.T + b_ih + b_hh
    gates = []
    for j in range(4):
        gates.append(torch.sigmoid(lin[:, j * hs:(j + 1) * hs]))
    c1 = gates[1] * c + gates[0] * gates[2]
    h1 = gates[3] * torch.tanh(c1)
    return h1, c1
