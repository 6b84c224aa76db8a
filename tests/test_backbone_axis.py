"""The source-model axis end to end: `backbones` in a config, through Snakemake."""

import pandas as pd
import pytest
import yaml
from sweep import snakemake

from bench.backbone_report import NAME


@pytest.mark.slow
def test_a_second_backbone_reruns_the_main_runs_and_is_compared(tmp_path):
    """Two backbones x one pair x one strategy x one seed, 4 steps, at 32 px."""
    sweep = {"results_dir": "results/axis", "resolution": 32, "seeds": [0],
             "strategies": ["feature_extraction"], "backbones": ["efficientnet_lite1"],
             "pairs": {"imagenet-digits": {"source": "photos", "target": "digits",
                                           "target_labels": True}},
             "data": {"options": {"digits": {"per_class": [6, 3, 4]},
                                  "photos": {"crops": [24, 4, 4]}}},
             "data_efficiency": {"pairs": []}, "train": {"max_steps": 4, "eval_every": 4, "batch_size": 8}}
    config_file = tmp_path / "axis.yaml"
    config_file.write_text(yaml.safe_dump(sweep))
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = snakemake(workdir, "--cores", "2", configfiles=(config_file,), timeout=1200)
    assert result.returncode == 0, result.stderr[-5000:]
    results = workdir / "results/axis"
    other = results / "backbones/efficientnet_lite1/runs/imagenet-digits/feature_extraction"
    assert (other / "seed0-shotsall.json").is_file()
    # The reference backbone's run is the main sweep's: summary.csv has it alone.
    assert list(pd.read_csv(results / "summary.csv")["backbone"]) == ["efficientnet_lite0"]
    table = pd.read_csv(results / "tables" / f"{NAME}.csv")
    assert sorted(table["backbone"]) == ["efficientnet_lite0", "efficientnet_lite1"]
    assert table.set_index("backbone")["imagenet_top1"].to_dict() == {
        "efficientnet_lite0": 75.1, "efficientnet_lite1": 76.7}
    assert (results / "figures" / f"{NAME}.png").stat().st_size > 0
