# MUTANT: unet
# WHY: joins the upsampled features and the skip connection in the wrong order.
# %%
# GRADED: unet
import torch
import torch.nn as nn


def double_conv(in_channels, out_channels):
    """Two (3x3 conv, padding 1) -> batch norm -> ReLU layers; keeps H and W."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
    )


class UNet(nn.Module):
    """U-Net: x (N, in_channels, H, W) -> logits (N, out_channels, H, W), H and W divisible by 2**depth."""

    def __init__(self, in_channels=1, out_channels=1, base_channels=8, depth=2):
        super().__init__()
        ch = [base_channels * 2**i for i in range(depth + 1)]  # c_0, ..., c_depth
        self.depth = depth
        self.down = nn.ModuleList(double_conv(in_channels if i == 0 else ch[i - 1], ch[i]) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double_conv(ch[depth - 1], ch[depth])
        self.up = nn.ModuleList(nn.ConvTranspose2d(ch[depth - j], ch[depth - j - 1], 2, stride=2)
                                for j in range(depth))
        self.dec = nn.ModuleList(double_conv(2 * ch[depth - j - 1], ch[depth - j - 1]) for j in range(depth))
        self.head = nn.Conv2d(ch[0], out_channels, 1)

    def forward(self, x):
        skips = []
        for down in self.down:
            x = down(x)  # (N, c_i, H / 2^i, W / 2^i)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)  # (N, c_depth, H / 2^depth, W / 2^depth)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = up(x)  # twice the resolution, the skip's channel count
            x = dec(torch.cat([x, skip], dim=1))
        return self.head(x)  # (N, out_channels, H, W) logits
