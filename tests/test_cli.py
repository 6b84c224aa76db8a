"""The command line documents itself, and bad input is one line on stderr with exit status 2.

In-process (``main([...])``) wherever the command does its work before any training.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from bench.cli import DELEGATED, build_parser, main

REPO = Path(__file__).resolve().parents[1]
CI_CONFIG = REPO / "workflows" / "configs" / "ci.yaml"


def one_line_error(capsys, *words: str) -> str:
    """The command's stderr: one line, no traceback, containing ``words``."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert all(word in err for word in words), err
    return err


def exit_status(argv: list[str]) -> int:
    """main's return value, or the status argparse exits with."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


# ------------------------------------------------------------------------ bad input


def test_unknown_data_set_is_one_line(tmp_path, capsys):
    assert main(["data", "show", "nosuch", "--out", str(tmp_path / "x.png")]) == 2
    one_line_error(capsys, "tlbench data show: error:", "unknown data set 'nosuch'", "digits")
    assert not (tmp_path / "x.png").exists()


def test_missing_data_set_is_one_line_and_offers_download(tmp_path, capsys):
    argv = ["data", "show", "flowers102", "--root", str(tmp_path), "--out", str(tmp_path / "x.png")]
    assert main(argv) == 2
    one_line_error(capsys, "flowers102", "not found", str(tmp_path), "--download")
    assert main(["data", "prepare", "flowers102", "--root", str(tmp_path), "--resolution", "32",
                 "--cache-dir", str(tmp_path / "cache")]) == 2
    one_line_error(capsys, "tlbench data prepare: error:", "flowers102", "--download")


def test_download_of_a_set_that_has_none_is_refused(tmp_path, capsys):
    assert main(["data", "show", "digits", "--download", "--out", str(tmp_path / "x.png")]) == 2
    one_line_error(capsys, "'digits' cannot be downloaded", "needs no files")


@pytest.mark.parametrize("option, words", [
    ("per_class", ["--option", "expected KEY=VALUE", "'per_class'"]),
    ("per_class=[1,", ["--option", "per_class", "is not YAML"]),
    ("=3", ["expected KEY=VALUE"]),
    ("sizes=3", ["no option 'sizes'", "per_class"]),  # the builder's, before any work
    ("per_class=lots", ["synflowers"]),
])
def test_bad_option_is_one_line_exit_2(tmp_path, capsys, option, words):
    argv = ["data", "show", "synflowers", "--out", str(tmp_path / "x.png"), "--option", option]
    assert exit_status(argv) == 2
    one_line_error(capsys, *words)
    assert not (tmp_path / "x.png").exists()


def test_options_and_config_exclude_each_other(tmp_path, capsys):
    argv = ["data", "prepare", "digits", "--resolution", "32", "--cache-dir", str(tmp_path),
            "--options", "{}", "--config", str(CI_CONFIG)]
    assert exit_status(argv) == 2
    one_line_error(capsys, "--config", "not allowed with argument --options")
    assert exit_status(["data", "prepare", "digits", "--resolution", "32", "--cache-dir",
                        str(tmp_path), "--options", "{not json"]) == 2
    one_line_error(capsys, "--options", "not JSON")


def test_missing_config_file_is_one_line(tmp_path, capsys):
    argv = ["run", "--config", str(tmp_path / "none.yaml"), "--pair", "p", "--strategy", "full",
            "--seed", "0", "--out", str(tmp_path / "r.json")]
    assert main(argv) == 2
    one_line_error(capsys, "tlbench run: error: config file", "none.yaml does not exist")
    assert not (tmp_path / "r.json").exists()


def test_run_layers_a_sweep_config_over_config_yaml(tmp_path, capsys):
    """ci.yaml sets no backbone: layered over config.yaml it is complete, so the first
    problem named is the pair, and the pairs listed are ci.yaml's."""
    argv = ["run", "--config", str(CI_CONFIG), "--pair", "nosuch", "--strategy", "full",
            "--seed", "0", "--out", str(tmp_path / "r.json")]
    assert main(argv) == 2
    err = one_line_error(capsys, "unknown pair 'nosuch'", "imagenet-digits")
    assert "backbone" not in err
    assert main([*argv[:-6], "--pair", "imagenet-digits", "--strategy", "full", "--seed", "0",
                 "--out", str(tmp_path / "r.json"), "--set", "train=3", "--set", "train.lr=1"]) == 2
    one_line_error(capsys, "--set train.lr", "'train' is not a mapping")


def test_prepare_reads_options_from_the_layered_config_then_option(tmp_path, capsys):
    argv = ["data", "prepare", "digits", "--resolution", "8", "--cache-dir", str(tmp_path),
            "--config", str(CI_CONFIG), "--out", str(tmp_path / "digits.json")]
    assert main(argv) == 0
    assert json.loads((tmp_path / "digits.json").read_text())["train"] == 10 * 10  # ci.yaml's
    assert main([*argv, "--option", "per_class=[3, 2, 2]"]) == 0
    assert json.loads((tmp_path / "digits.json").read_text())["train"] == 10 * 3
    assert "digits: 30/20/20 train/val/test at 8 px" in capsys.readouterr().out


# ------------------------------------------------------------------------------ help


def subcommand_parsers(parser: argparse.ArgumentParser, path=()):
    """(command words, parser) of every command and subcommand, the top level included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if name not in DELEGATED:
                    yield from subcommand_parsers(sub, (*path, name))


def test_every_argument_has_help():
    for path, parser in subcommand_parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue  # the list of commands: each command's own help is checked
            assert action.help, f"{' '.join(path) or 'tlbench'}: {action.dest} has no help"


@pytest.mark.parametrize("argv, shown", [
    (["run"], ["(default: 1)", "(default: all)", "default: config.yaml alone", "--pair NAME",
               "strategies", "examples:", "workflows/configs/ci.yaml"]),
    (["tune"], ["(default: 1)", "default: no cache", "--trials JSON", "--selection-seed N"]),
    (["data", "list"], ["(default: data)"]),
    (["data", "show"], ["(default: 96)", "(default: data)", "--download", "KEY=VALUE"]),
    (["data", "prepare"], ["(default: 0)", "default: the builder's defaults", "--options JSON"]),
    (["data"], ["examples:", "--download"]),
    (["compare"], ["default: config.yaml's", "examples:", "Exit status"]),
])
def test_help_shows_defaults_and_examples(capsys, argv, shown):
    assert exit_status([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tlbench {' '.join(argv)}"), out[:200]
    assert all(text in " ".join(out.split()) for text in shown), out  # wrapped anywhere
    assert "(default: None)" not in out and len(out.splitlines()) < 45


def test_top_level_help_lists_every_command_and_prog_follows_the_caller(capsys):
    assert exit_status(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("run", "cell", "tune", "strategies", "data", *DELEGATED):
        assert f"\n    {command}" in out, command
    with pytest.raises(SystemExit):
        main(["run", "--help"], prog="python -m bench")
    assert capsys.readouterr().out.startswith("usage: python -m bench run")


def test_version(capsys):
    assert exit_status(["--version"]) == 0
    assert capsys.readouterr().out == f"tlbench {version('tlbench')}\n"


@pytest.mark.parametrize("command", sorted(DELEGATED))
def test_delegated_commands_answer_under_their_subcommand(capsys, command):
    assert exit_status([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: tlbench {command}")


def test_aggregate_subcommand_does_the_work(tmp_path, capsys):
    """A delegated command gets its arguments: an empty folder of records is its error."""
    (tmp_path / "runs").mkdir()
    assert exit_status(["aggregate", "--out-dir", str(tmp_path), str(tmp_path / "runs")]) == 1
    assert "error:" in capsys.readouterr().err


def test_help_imports_neither_torch_nor_pandas():
    """`--help` and argument errors stay quick: the parser imports no heavy library."""
    code = ("import sys; from bench.cli import build_parser; build_parser()\n"
            "print(sorted(m for m in ('torch', 'pandas', 'yaml') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------ real runs


@pytest.mark.slow
def test_run_with_a_sweep_config_by_hand(tmp_path):
    """`python -m bench run --config workflows/configs/ci.yaml` trains at ci.yaml's budget."""
    out = tmp_path / "run.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--config", str(CI_CONFIG), "--pair",
         "imagenet-digits", "--strategy", "feature_extraction", "--seed", "0", "--out", str(out),
         "--quiet", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=REPO, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record["status"] == "ok", record["error"]
    assert (record["resolution"], record["max_steps"], record["backbone"]) == (32, 4, "efficientnet_lite0")
    assert record["hparams"]["data_options"]["digits"] == {"per_class": [10, 5, 10]}
