"""tlbench: a reproducible benchmark suite for transfer-learning strategies.

The package knows nothing of Snakemake: a run is a pure function
``RunConfig -> RunRecord`` (:func:`bench.train.run`), data sets come from a registry
(:mod:`bench.datasets`), and strategies are small classes found by name
(:mod:`bench.strategies`).
"""

__version__ = "0.1.0"
