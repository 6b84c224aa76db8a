"""DAN: Deep Adaptation Network (Long et al., ICML 2015).

The first stages are frozen and the last ``trainable_stages`` fine-tuned, as in the
paper (conv1-3 frozen, conv4-5 fine-tuned). A bottleneck layer sits before the head,
and the multi-kernel MMD between the two domains' bottleneck features and logits is
added to the classification loss with weight ``mmd_weight`` (lambda).

The labelled batch is the target's when target labels are used (ImageNet pairs; the
other domain is the source image set), and the source's in the unsupervised Office-31
protocol (the other domain is the unlabelled target training split).
"""

import torch
import torch.nn.functional as F

from bench.mmd import mk_mmd
from bench.strategies.base import register
from bench.strategies.partial import Partial


@register
class DAN(Partial):
    name = "dan"
    uses_other_domain = True
    defaults = {"trainable_stages": 3, "mmd_weight": 1.0, "bottleneck_dim": 128,
                "backbone_lr_mult": 0.1, "linear_mmd": False}

    def loss(self, x, y, other, start):
        # One forward pass over both domains, so BatchNorm sees the pooled batch.
        features = self.network.features(torch.cat([x, other]), start)
        logits = self.network.head(features)
        n = x.shape[0]
        linear = bool(self.params["linear_mmd"])
        mmd = (mk_mmd(features[:n], features[n:], linear=linear)
               + mk_mmd(logits[:n], logits[n:], linear=linear))
        ce = F.cross_entropy(logits[:n], y, label_smoothing=self.config.label_smoothing)
        return ce + self.params["mmd_weight"] * mmd, {"mmd": mmd.detach()}
