"""Training-time augmentation: per-image random-resized crop and horizontal flip.

Vectorised over the batch (one affine grid per image, one ``grid_sample`` call), so it
runs on the batch's device, GPU or CPU, without a loop over images.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_resized_crop_flip(x: torch.Tensor, generator: torch.Generator,
                             scale: tuple[float, float] = (0.35, 1.0),
                             ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> torch.Tensor:
    """A random crop of each image, resized back to its size, flipped with probability 1/2.

    As torchvision's ``RandomResizedCrop`` + ``RandomHorizontalFlip``, drawn per image: the
    crop's area is a uniform fraction ``scale`` of the image's, its aspect ratio (width /
    height, in pixels) log-uniform in ``ratio``, its position uniform within the image.

    Args:
        x: Images (B, C, H, W), any real dtype (uint8 images are rounded back to uint8).
        generator: The run's CPU generator; every draw comes from it, so a seed fixes the
            batch's augmentation whatever the device of ``x``.
        scale: Range of the crop's area, as a fraction of the image's.
        ratio: Range of the crop's aspect ratio.

    Returns:
        The augmented batch, with the shape, dtype and device of ``x``.
    """
    b, _, height, width = x.shape
    u = torch.rand(b, 5, generator=generator, dtype=torch.float64)
    area = scale[0] + (scale[1] - scale[0]) * u[:, 0]
    log_ratio = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * u[:, 1]
    aspect = log_ratio.exp() * height / width  # the pixel ratio in normalised coordinates
    # Crop width and height as fractions of the image's. torchvision redraws a crop that
    # does not fit; clamping instead keeps one draw per image (a too-wide crop becomes
    # full-width, its aspect ratio still within ``ratio`` for the default ranges).
    w, h = (area * aspect).sqrt().clamp(max=1.0), (area / aspect).sqrt().clamp(max=1.0)
    centre_x, centre_y = (2 * u[:, 2] - 1) * (1 - w), (2 * u[:, 3] - 1) * (1 - h)
    flip = torch.where(u[:, 4] < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 2] = w * flip, centre_x  # a negative x scale mirrors the crop
    theta[:, 1, 1], theta[:, 1, 2] = h, centre_y
    theta = theta.to(device=x.device, dtype=torch.float32)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Bilinear without antialiasing: a crop is never larger than the output, so it is only
    # ever upsampled; interpolation keeps values within the input's range.
    out = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border",
                        align_corners=False)
    return (out if x.is_floating_point() else out.round()).to(x.dtype)
