"""Feature extraction: a new linear head on frozen pretrained features (a linear probe).

Every stage is frozen and in eval mode, so the features are computed once per split
and the head trains on the cached tensors.
"""

from bench.strategies.base import Strategy, register


@register
class FeatureExtraction(Strategy):
    name = "feature_extraction"

    def frozen_stages(self, epoch: int) -> int:
        return self.num_stages
