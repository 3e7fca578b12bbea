import torch
import torch.nn.functional as F

from trainlab.config.schema import AugmentConfig
from trainlab.data.augment import augment, cutout, random_crop, random_flip


def test_crop_is_a_window_of_the_padded_image():
    x = torch.randn(16, 3, 8, 8)
    out = random_crop(x, 2, torch.Generator().manual_seed(0))
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(16):
        windows = padded[i].unfold(1, 8, 1).unfold(2, 8, 1)  # (C, 5, 5, 8, 8)
        assert any(torch.equal(windows[:, a, b], out[i]) for a in range(5) for b in range(5))
    assert not torch.equal(out, x)


def test_flip_mirrors_about_half():
    x = torch.randn(400, 1, 4, 4)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(o, xi.flip(2)) for o, xi in zip(out, x, strict=True)])
    kept = torch.tensor([torch.equal(o, xi) for o, xi in zip(out, x, strict=True)])
    assert bool((flipped | kept).all()) and 150 < int(flipped.sum()) < 250


def test_cutout_zeroes_one_square():
    out = cutout(torch.ones(50, 1, 16, 16), 4, torch.Generator().manual_seed(0))
    zeros = (out == 0).sum(dim=(1, 2, 3))
    assert int(zeros.max()) == 16 and int(zeros.min()) >= 4  # clipped at borders


def test_same_generator_seed_gives_the_same_augmentation():
    cfg = AugmentConfig(crop_padding=2, flip=True, cutout=3)
    x = torch.randn(8, 3, 12, 12)
    a = augment(x, cfg, torch.Generator().manual_seed(5))
    b = augment(x, cfg, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
