"""Synthetic stand-ins for the paper's target data sets, generated from a seed, no files.

Each image is drawn with PIL ``ImageDraw`` (shapes) and numpy (backgrounds, noise) on a
square canvas of ``max(128, resolution)`` pixels, then resized with antialiasing to the
requested resolution. Image ``i`` of class ``c`` comes from its own
``numpy.random.default_rng([set_tag, generation_seed, c, i])``, so the same images are
produced on every machine, asking for more images per class only appends images, and
``split_seed`` changes only which images land in train / val / test
(:func:`bench.datasets.stratified_split`). Geometry is drawn in units of the canvas,
so every resolution shows the same scenes.

One module per generator, each with its recipe in its docstring:

- :mod:`~bench.datasets.synthetic.flowers`: ``synflowers`` (12 species; stand-in for
  Oxford 102 Flowers),
- :mod:`~bench.datasets.synthetic.office`: ``synoffice-{amazon,webcam,dslr}`` (12
  classes named as in Office-31; its stand-in), drawn by
  :mod:`~bench.datasets.synthetic.office_objects`,
- :mod:`~bench.datasets.synthetic.xray`: ``synxray`` (2 classes, ``normal`` /
  ``pneumonia``; stand-in for chest X-ray sets),

and :mod:`~bench.datasets.synthetic.common` for the generation driver and the drawing
helpers they share. Importing this package registers the five sets.
"""

from bench.datasets.synthetic.common import DEFAULT_PER_CLASS, RENDER_SIZE
from bench.datasets.synthetic.flowers import FLOWER_CLASSES, build_synflowers
from bench.datasets.synthetic.office import build_synoffice
from bench.datasets.synthetic.office_objects import OFFICE_CLASSES
from bench.datasets.synthetic.xray import XRAY_CLASSES, build_synxray

__all__ = [
    "DEFAULT_PER_CLASS",
    "FLOWER_CLASSES",
    "OFFICE_CLASSES",
    "RENDER_SIZE",
    "XRAY_CLASSES",
    "build_synflowers",
    "build_synoffice",
    "build_synxray",
]
