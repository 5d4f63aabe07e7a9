"""shared.linalg: the spectral route to Newton-Schulz agrees with the iteration."""

import pytest
import torch

from autograder.notebook import reference_module
from shared.linalg import newton_schulz_spectral


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (5, 5), (2, 3, 7)])
@pytest.mark.parametrize("steps", [0, 1, 5])
def test_spectral_equals_iteration(shape, steps):
    ref = reference_module("optimizers")
    G = 50 * torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(newton_schulz_spectral(G, steps), ref.newton_schulz(G, steps), rtol=1e-10, atol=1e-12)


def test_rank_deficient_and_dtype():
    ref = reference_module("optimizers")
    G = torch.ones(4, 3, dtype=torch.float64)
    torch.testing.assert_close(newton_schulz_spectral(G), ref.newton_schulz(G), rtol=1e-10, atol=1e-12)
    assert newton_schulz_spectral(G.float()).dtype == torch.float32
