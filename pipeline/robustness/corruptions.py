"""The corruption suite (SPEC section 10): ImageNet-C / CIFAR-10-C and MNIST-C corruptions on whole batches.

One calling convention for every corruption::

    corrupt(images, name, severity, seed) -> images

``images`` is a float tensor (N, C, H, W) in [0, 1], 1 or 3 channels, any size from 28x28 up; the result
has the same shape and dtype, in [0, 1].  ``severity`` is 1..5.  The output is a pure function of the
inputs: every random draw comes from a ``torch.Generator`` seeded with ``seed``, and the same draws are
used at every severity, so severity only scales the corruption (which is why distortion grows with it).

Parameters follow CIFAR-10-C (Hendrycks & Dietterich 2019: the small-image variant of ImageNet-C) for the
noise, blur and digital families (ImageNet-C's for defocus blur and pixelate, whose CIFAR-10-C levels do
not grow monotonically on small images) and MNIST-C (Mu & Gilmer 2019) for the geometric ones.  Spatial sizes
(blur widths, shifts) are given for a 32-pixel image and scaled by ``min(H, W) / 32``, so a 28x28
Fashion-MNIST image and a 224x224 ImageNet image get the same corruption relative to their size.
torchvision does the work where it implements the operation with per-batch parameters (Gaussian blur,
contrast, resizing, JPEG, affine maps); the rest (seeded noise, per-image motion-blur kernels, per-image
elastic fields) is a few tensor operations here, because torchvision's versions take no generator or only
one parameter set per batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as nnf

SEVERITIES = (1, 2, 3, 4, 5)
FAMILIES = ("noise", "blur", "digital", "geometric")

Apply = Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class Corruption:
    """A named corruption: its family, the parameter at each severity and what the parameter means."""

    name: str
    family: str
    source: str
    parameters: tuple[float, ...]
    meaning: str
    apply: Apply


def _scale(x: torch.Tensor) -> float:
    """Spatial scale of the image against the 32-pixel images the parameters were set for."""
    return min(x.shape[-2:]) / 32.0


def _blur_kernel_size(sigma: float) -> int:
    return 2 * math.ceil(3 * sigma) + 1


# ------------------------------------------------------------------------------------------------ noise


def gaussian_noise(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    return x + c * torch.randn(x.shape, generator=gen)


def shot_noise(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Poisson photon noise with ``c`` photons at full intensity (fewer photons: more noise)."""
    return torch.poisson(x * c, generator=gen) / c


def impulse_noise(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Salt and pepper on a fraction ``c`` of the values; a larger ``c`` hits a superset of pixels."""
    u = torch.rand(x.shape, generator=gen)
    return torch.where(u < c / 2, 0.0, torch.where(u > 1 - c / 2, 1.0, x))


def speckle_noise(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    return x + x * c * torch.randn(x.shape, generator=gen)


# ------------------------------------------------------------------------------------------------- blur


def gaussian_blur(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as F

    sigma = c * _scale(x)
    size = _blur_kernel_size(sigma)
    return F.gaussian_blur(x, [size, size], [sigma, sigma])


def _depthwise(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Convolve each image with its own (N, k, k) kernel (or one (1, k, k) for all), reflect-padded."""
    n, ch, h, w = x.shape
    k = kernels.shape[-1]
    kernels = kernels.expand(n, k, k).repeat_interleave(ch, dim=0)[:, None]  # (N*C, 1, k, k)
    pad = k // 2
    flat = x.reshape(1, n * ch, h, w)
    mode = "reflect" if pad < min(h, w) else "replicate"
    flat = nnf.pad(flat, (pad, pad, pad, pad), mode=mode)
    return nnf.conv2d(flat, kernels, groups=n * ch).reshape(n, ch, h, w)


# Disk radius (in pixels of a 224-pixel image) and the Gaussian that anti-aliases its edge, per severity:
# ImageNet-C's table, whose radius grows at every level (CIFAR-10-C's trades radius against the
# anti-aliasing and is not monotone on small images).
DEFOCUS = ((3.0, 0.1), (4.0, 0.5), (6.0, 0.5), (8.0, 0.5), (10.0, 0.5))


def defocus_blur(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """A disk kernel of radius ``DEFOCUS[c - 1][0]`` (scaled), anti-aliased by a small Gaussian."""
    from torchvision.transforms.v2 import functional as F

    radius, alias = DEFOCUS[int(c) - 1]
    # The disk scales with the image, but is at least 0.75 to 1.75 pixels, so that every level blurs a
    # 28-pixel image and blurs it more than the level below; the anti-aliasing stays put.
    radius = max(radius * min(x.shape[-2:]) / 224, 0.5 + 0.25 * int(c))
    half = max(1, math.ceil(radius + 3 * alias))
    grid = torch.arange(-half, half + 1, dtype=torch.float32)
    # A soft-edged disk (each pixel weighted by roughly its covered share), so that the kernel widens
    # continuously with the radius also below one pixel, where a hard disk is a single pixel.
    distance = (grid[:, None] ** 2 + grid[None, :] ** 2).sqrt()
    disk = (radius + 0.5 - distance).clamp(0.0, 1.0)
    size = _blur_kernel_size(alias)
    disk = F.gaussian_blur(disk[None, None], [size, size], [alias, alias])[0, 0]
    return _depthwise(x, (disk / disk.sum())[None])


def motion_blur(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """A one-sided line kernel with Gaussian falloff (ImageMagick's motion blur, as in ImageNet-C):
    standard deviation ``c`` (scaled) along a direction drawn per image in [-45, 45] degrees."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 90 - 45) * math.pi / 180
    sigma = c * _scale(x)
    length = max(1, math.ceil(3 * sigma))
    t = torch.arange(0, length + 1, dtype=torch.float32)  # distances along the line
    weights = torch.exp(-(t**2) / (2 * sigma**2))
    k = 2 * length + 1
    px = length + t[None, :] * torch.cos(angle)[:, None]  # (N, T), one-sided: from the centre outwards
    py = length + t[None, :] * torch.sin(angle)[:, None]
    kernels = torch.zeros(n, k * k)
    x0, y0 = px.floor(), py.floor()
    for dx in (0, 1):  # bilinear splat of each point of the line onto the kernel grid
        for dy in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            w = (1 - (px - xi).abs()) * (1 - (py - yi).abs()) * weights
            inside = (xi >= 0) & (xi < k) & (yi >= 0) & (yi < k)
            index = (yi.clamp(0, k - 1) * k + xi.clamp(0, k - 1)).long()
            kernels.scatter_add_(1, index, torch.where(inside, w, 0.0))
    kernels = kernels.reshape(n, k, k)
    return _depthwise(x, kernels / kernels.sum(dim=(1, 2), keepdim=True))


# ---------------------------------------------------------------------------------------------- digital


def contrast(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as F

    return F.adjust_contrast(x, c)


def brightness(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Add ``c`` to the HSV value (the channel maximum), keeping hue and saturation, as ImageNet-C does."""
    value = x.amax(dim=1, keepdim=True)
    target = (value + c).clamp(max=1.0)
    return torch.where(value > 0, x * target / value.clamp(min=1e-12), x + c)


def pixelate(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Down to ``c`` of the side with an anti-aliased resize, back up with nearest neighbours."""
    from torchvision.transforms.v2 import functional as F

    h, w = x.shape[-2:]
    small = F.resize(x, [max(1, round(h * c)), max(1, round(w * c))], antialias=True)
    return F.resize(small, [h, w], interpolation=F.InterpolationMode.NEAREST_EXACT)  # PIL's nearest


def jpeg(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """JPEG compression at quality ``c`` (torchvision's libjpeg)."""
    from torchvision.transforms.v2 import functional as F

    from pipeline.pixels import to_uint8, to_unit

    return to_unit(F.jpeg(to_uint8(x), int(c)))


# -------------------------------------------------------------------------------------------- geometric


def _affine_by_sign(
    x: torch.Tensor, gen: torch.Generator, groups: int, make: Callable[[int], dict[str, object]]
) -> torch.Tensor:
    """torchvision's affine map applied per group of images: a group index per image is drawn from
    ``gen`` (e.g. the sign of a rotation) and ``make(group)`` gives that group's affine arguments."""
    from torchvision.transforms.v2 import functional as F

    group = torch.randint(0, groups, (x.shape[0],), generator=gen)
    out = torch.empty_like(x)
    for g in range(groups):
        chosen = group == g
        if chosen.any():
            args = {"angle": 0.0, "translate": [0.0, 0.0], "scale": 1.0, "shear": [0.0, 0.0]} | make(g)
            out[chosen] = F.affine(
                x[chosen],
                **args,
                interpolation=F.InterpolationMode.BILINEAR,
                fill=[0.0],
            )
    return out


def rotate(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Rotation by ``c`` degrees, clockwise or counter-clockwise per image."""
    return _affine_by_sign(x, gen, 2, lambda g: {"angle": c if g else -c})


def shear(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Horizontal shear by ``c`` degrees, either way per image."""
    return _affine_by_sign(x, gen, 2, lambda g: {"shear": [c if g else -c, 0.0]})


def translate(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """A shift by ``c`` of the side along both axes, in one of the four diagonal directions per image."""
    h, w = x.shape[-2:]
    return _affine_by_sign(
        x, gen, 4, lambda g: {"translate": [(1 if g & 1 else -1) * c * w, (1 if g & 2 else -1) * c * h]}
    )


def scale(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Shrink about the centre by the factor ``c`` (MNIST-C's scale), the border filled with black."""
    return _affine_by_sign(x, gen, 1, lambda g: {"scale": c})


def elastic(x: torch.Tensor, c: float, gen: torch.Generator) -> torch.Tensor:
    """Elastic deformation (Simard et al. 2003, ImageNet-C): a smooth random displacement field per image
    (uniform noise blurred with a Gaussian of 1/10 of the side, drawn on a coarse grid for large images),
    scaled to an RMS displacement of ``c`` (scaled) pixels, applied with bilinear sampling."""
    from torchvision.transforms.v2 import functional as F

    n, _, h, w = x.shape
    # The field is smooth, so it is drawn on a grid of at most ~32 pixels a side and upsampled.
    step = max(1, min(h, w) // 32)
    field = torch.rand((n, 2, -(-h // step), -(-w // step)), generator=gen) * 2 - 1
    sigma = 0.1 * min(field.shape[-2:])
    size = _blur_kernel_size(sigma)
    field = F.gaussian_blur(field, [size, size], [sigma, sigma])
    if step > 1:
        field = nnf.interpolate(field, size=(h, w), mode="bilinear", align_corners=False)
    field = field / field.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp(min=1e-12)
    pixels = field * c * _scale(x)  # (N, 2, H, W) displacement in pixels
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
    )
    gx = (xs + pixels[:, 0]) * 2 / (w - 1) - 1
    gy = (ys + pixels[:, 1]) * 2 / (h - 1) - 1
    grid = torch.stack([gx, gy], dim=-1)
    return nnf.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


# --------------------------------------------------------------------------------------------- registry

CORRUPTIONS: dict[str, Corruption] = {
    c.name: c
    for c in (
        Corruption(
            "gaussian_noise",
            "noise",
            "CIFAR-10-C",
            (0.04, 0.06, 0.08, 0.09, 0.10),
            "noise std",
            gaussian_noise,
        ),
        Corruption(
            "shot_noise",
            "noise",
            "CIFAR-10-C",
            (500, 250, 100, 75, 50),
            "photons at full intensity",
            shot_noise,
        ),
        Corruption(
            "impulse_noise",
            "noise",
            "CIFAR-10-C",
            (0.01, 0.02, 0.03, 0.05, 0.07),
            "fraction salted",
            impulse_noise,
        ),
        Corruption(
            "speckle_noise",
            "noise",
            "CIFAR-10-C",
            (0.06, 0.10, 0.12, 0.16, 0.20),
            "multiplicative noise std",
            speckle_noise,
        ),
        Corruption(
            "gaussian_blur",
            "blur",
            "CIFAR-10-C",
            (0.4, 0.6, 0.7, 0.8, 1.0),
            "sigma (px at 32)",
            gaussian_blur,
        ),
        Corruption(
            "defocus_blur",
            "blur",
            "ImageNet-C",
            (1, 2, 3, 4, 5),
            "row of DEFOCUS (disk radius at 224 px, alias sigma)",
            defocus_blur,
        ),
        Corruption(
            "motion_blur",
            "blur",
            "CIFAR-10-C",
            (1.0, 1.5, 2.0, 2.5, 3.0),
            "sigma along the line (px at 32)",
            motion_blur,
        ),
        Corruption(
            "contrast", "digital", "CIFAR-10-C", (0.75, 0.5, 0.4, 0.3, 0.15), "contrast factor", contrast
        ),
        Corruption(
            "brightness", "digital", "CIFAR-10-C", (0.05, 0.1, 0.15, 0.2, 0.3), "added HSV value", brightness
        ),
        Corruption(
            "pixelate", "digital", "ImageNet-C", (0.6, 0.5, 0.4, 0.3, 0.25), "resolution kept", pixelate
        ),
        Corruption("jpeg", "digital", "CIFAR-10-C", (80, 65, 58, 50, 40), "JPEG quality", jpeg),
        Corruption(
            "elastic",
            "geometric",
            "ImageNet-C",
            (0.25, 0.5, 0.75, 1.0, 1.5),
            "RMS displacement (px at 32)",
            elastic,
        ),
        Corruption("rotate", "geometric", "MNIST-C", (5, 10, 15, 20, 30), "degrees", rotate),
        Corruption("shear", "geometric", "MNIST-C", (5, 10, 15, 20, 30), "degrees", shear),
        Corruption(
            "translate",
            "geometric",
            "MNIST-C",
            (0.03, 0.06, 0.09, 0.12, 0.16),
            "shift per axis, share of the side",
            translate,
        ),
        Corruption("scale", "geometric", "MNIST-C", (0.95, 0.9, 0.8, 0.7, 0.6), "zoom factor", scale),
    )
}


def names() -> list[str]:
    return list(CORRUPTIONS)


def get(name: str) -> Corruption:
    """The corruption called ``name``; a KeyError lists every name there is."""
    try:
        return CORRUPTIONS[name]
    except KeyError:
        raise KeyError(f"unknown corruption {name!r}; allowed: {', '.join(CORRUPTIONS)}") from None


def corrupt(images: torch.Tensor, name: str, severity: int, seed: int) -> torch.Tensor:
    """``images`` (N, C, H, W) float in [0, 1] under corruption ``name`` at ``severity`` 1..5, drawn from
    ``seed``; same shape and dtype, clipped to [0, 1]."""
    corruption = get(name)
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {list(SEVERITIES)}, got {severity}")
    if images.ndim != 4 or images.shape[1] not in (1, 3) or not images.is_floating_point():
        raise ValueError(
            f"images must be a float (N, 1 or 3, H, W) tensor, got {images.dtype} {tuple(images.shape)}"
        )
    gen = torch.Generator().manual_seed(seed)
    x = images.detach().to("cpu", torch.float32)
    out = corruption.apply(x, float(corruption.parameters[severity - 1]), gen).clamp_(0.0, 1.0)
    return out.to(images.dtype)
