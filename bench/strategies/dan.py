"""DAN: Deep Adaptation Network (Long et al., ICML 2015).

The first stages are frozen and the last ``trainable_stages`` fine-tuned, as in the
paper (conv1-3 frozen, conv4-5 fine-tuned). A bottleneck layer sits before the head,
and the multi-kernel MMD between the two domains' bottleneck features and logits is
added to the classification loss with weight ``mmd_weight`` (lambda).

The labelled batch is the target's when target labels are used (ImageNet pairs; the
other domain is the source image set), and the source's in the unsupervised Office-31
protocol (the other domain is the unlabelled target training split).

DAN assumes one label space for both domains. Where the two data sets' classes differ
(ImageNet photos -> flowers, natural photos -> X-ray) the logits of the other domain
mean nothing, so only the bottleneck features are aligned there (no logit term); the
record says which (``data.shared_label_space``) and the tables mark those cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.strategies.base import Param, log_uniform, register
from bench.strategies.partial import BACKBONE_LR_MULT, TRAINABLE_STAGES, Partial

if TYPE_CHECKING:  # the registry is read without torch (bench.strategies.base)
    import torch


@register
class DAN(Partial):
    name = "dan"
    label = "DAN"
    colour = "#D55E00"
    order = 40
    uses_other_domain = True
    needs_shared_labels = True
    settings = {
        "trainable_stages": Param(3, TRAINABLE_STAGES, minimum=1),
        "mmd_weight": Param(1.0, "weight of the MK-MMD term in the loss", minimum=0,
                            search=log_uniform(0.1, 10.0)),
        "bottleneck_dim": Param(128, "width of the adaptation layer MMD is computed on",
                                minimum=1),
        "backbone_lr_mult": Param(0.1, BACKBONE_LR_MULT, exclusive_minimum=0,
                                  search=log_uniform(0.01, 1.0)),
        "linear_mmd": Param(False, "linear-time MK-MMD estimate (Long et al. 2015) instead "
                                   "of the quadratic one"),
    }

    def bottleneck_dim(self) -> int:
        return int(self.params["bottleneck_dim"])

    def loss(self, x, y, other, applied):
        ce, mmd = self.losses(x, y, other, applied)
        return ce + self.params["mmd_weight"] * mmd, {"mmd": mmd.detach()}

    def losses(self, x, y, other, applied) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy of the labelled batch, and MK-MMD between the two domains."""
        import torch
        import torch.nn.functional as F

        from bench.mmd import mk_mmd

        # One forward pass over both domains, so BatchNorm sees the pooled batch.
        features = self.network.features(torch.cat([x, other]), applied)
        logits = self.network.head(features)
        n = x.shape[0]
        linear = bool(self.params["linear_mmd"])
        mmd = mk_mmd(features[:n], features[n:], linear=linear)
        if self.shared_label_space:
            mmd = mmd + mk_mmd(logits[:n], logits[n:], linear=linear)
        ce = F.cross_entropy(logits[:n], y, label_smoothing=self.config.label_smoothing)
        return ce, mmd
