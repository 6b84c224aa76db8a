import math

import pytest
import torch

from bench.augment import random_resized_crop_flip


def _images(n: int, height: int = 48, width: int = 64, seed: int = 0) -> torch.Tensor:
    """``n`` copies of one random uint8 image (3, height, width)."""
    g = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 256, (3, height, width), generator=g, dtype=torch.uint8)
    return image.expand(n, -1, -1, -1).contiguous()


def _ramps(n: int, size: int = 64) -> torch.Tensor:
    """``n`` float images whose channel 0 is the column index and channel 1 the row index.

    Bilinear sampling of a linear ramp is exact, so an output's slope along a row is the
    crop's width over the image's, negative when flipped; along a column its height.
    """
    index = torch.arange(size, dtype=torch.float32)
    image = torch.stack([index.expand(size, size), index[:, None].expand(size, size)])
    return image.expand(n, -1, -1, -1).contiguous()


def _slopes(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: the ramp's slope across the middle of the output, along x and along y."""
    q, s = out.shape[-1] // 4, out.shape[-1] // 2  # central pixels, clear of the border
    dx = (out[:, 0, s, 3 * q] - out[:, 0, s, q]) / (2 * q)
    dy = (out[:, 1, 3 * q, s] - out[:, 1, q, s]) / (2 * q)
    return dx, dy


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_keeps_shape_and_dtype_and_the_value_range(dtype):
    x = _images(16).to(dtype)
    if dtype == torch.float32:
        x = x / 255 * 2 - 1  # normalised-looking values, negative ones included
    out = random_resized_crop_flip(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert out.min() >= x.min() and out.max() <= x.max()


def test_identical_images_in_one_batch_come_out_different():
    out = random_resized_crop_flip(_images(2), torch.Generator().manual_seed(0))
    assert not torch.equal(out[0], out[1])


def test_the_same_seed_gives_the_same_batch_and_another_seed_another():
    x = _images(8)
    first = random_resized_crop_flip(x, torch.Generator().manual_seed(3))
    again = random_resized_crop_flip(x, torch.Generator().manual_seed(3))
    other = random_resized_crop_flip(x, torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_draws_advance_the_run_generator():
    # Two batches of one run (one generator) are augmented differently.
    generator, x = torch.Generator().manual_seed(0), _images(4)
    assert not torch.equal(random_resized_crop_flip(x, generator),
                           random_resized_crop_flip(x, generator))


def test_flip_and_scale_vary_across_a_batch_within_their_ranges():
    dx, dy = _slopes(random_resized_crop_flip(_ramps(256), torch.Generator().manual_seed(0)))
    flipped = dx < 0
    assert 0.3 < flipped.float().mean() < 0.7  # per image, with probability 1/2
    assert (dy > 0).all()  # never flipped vertically
    width, height = dx.abs(), dy
    area, aspect = width * height, width / height
    assert area.min() >= 0.35 - 1e-4 and area.max() <= 1 + 1e-4
    assert area.max() - area.min() > 0.5  # the scale jitter spans most of (0.35, 1)
    assert aspect.min() >= 3 / 4 - 1e-4 and aspect.max() <= 4 / 3 + 1e-4
    assert math.log(aspect.max() / aspect.min()) > 0.4  # ratios of both sides of 1


def test_the_full_image_at_scale_one_is_the_image_or_its_mirror():
    x = _images(32)
    out = random_resized_crop_flip(x, torch.Generator().manual_seed(0), scale=(1.0, 1.0),
                                   ratio=(64 / 48, 64 / 48))
    mirrored = (out == x.flip(-1)).flatten(1).all(1)
    same = (out == x).flatten(1).all(1)
    assert (mirrored | same).all() and mirrored.any() and same.any()
