"""Partial fine-tuning: the last ``trainable_stages`` backbone stages and a new head."""

from bench.settings import ConfigError
from bench.strategies.base import Param, Strategy, choice, log_uniform, register

TRAINABLE_STAGES = "how many of the backbone's last stages train (bench.models stage list)"
BACKBONE_LR_MULT = "backbone learning rate = lr x this"


@register
class Partial(Strategy):
    name = "partial"
    label = "Partial FT"
    colour = "#56B4E9"
    order = 20
    settings = {
        "trainable_stages": Param(2, TRAINABLE_STAGES, minimum=1, search=choice(1, 2, 3, 4)),
        "backbone_lr_mult": Param(1.0, BACKBONE_LR_MULT, exclusive_minimum=0,
                                  search=log_uniform(0.03, 1.0)),
    }

    def __init__(self, config, backbone, num_classes, shared_label_space=True):
        super().__init__(config, backbone, num_classes, shared_label_space)
        # The one bound the config schema cannot know: the backbone's stage count.
        k = self.params["trainable_stages"]
        if k > self.num_stages:
            raise ConfigError(
                f"`strategy_params.{self.name}.trainable_stages` must be an integer from 1 to "
                f"{self.num_stages} (the stages of {config.backbone}: "
                f"{', '.join(backbone.stage_names)}), got {k!r}")

    def frozen_stages(self, step: int) -> int:
        return self.num_stages - self.params["trainable_stages"]
