"""Feature extraction: a new linear head on frozen pretrained features (a linear probe).

Every stage is frozen and in eval mode, so the features are computed once per split
and the head trains on the cached tensors.
"""

from bench.strategies.base import Strategy, log_uniform, register


@register
class FeatureExtraction(Strategy):
    name = "feature_extraction"
    label = "Feature extraction"
    colour = "#E69F00"
    order = 10
    trains_backbone = False
    # A linear probe on fixed features takes larger steps than fine-tuning.
    train_search = {**Strategy.train_search, "lr": log_uniform(1.0e-3, 1.0e-1)}

    def frozen_stages(self, step: int) -> int:
        return self.num_stages
