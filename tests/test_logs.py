"""A run's log is for people: one line per evaluation, no progress-bar noise in a file."""

import logging
import re
import sys

import pytest

from bench.config import run_config
from bench.logs import configure_logging
from bench.train import Trainer
from tests.conftest import tiny_config


@pytest.fixture
def command_line_logging():
    """bench's logging as a command line sets it up, into the test's captured stderr
    (configured inside the test: capsys's stream is the call phase's), undone after."""
    handlers = []
    yield lambda: handlers.append(configure_logging(stream=sys.stderr))
    for handler in handlers:
        logging.getLogger("bench").removeHandler(handler)
    logging.getLogger("bench").setLevel(logging.NOTSET)


def test_a_run_with_captured_output_logs_one_line_per_evaluation_and_no_carriage_return(
        command_line_logging, capsys):
    command_line_logging()
    config = run_config(tiny_config(evaluations=3), "imagenet-digits", "partial", 0)
    record = Trainer(config, progress=True).run()  # a progress bar asked for, stderr no tty
    err = capsys.readouterr().err
    assert "\r" not in err
    evaluations = [line for line in err.splitlines() if " step " in line]
    assert len(evaluations) == 3
    for number, (line, history) in enumerate(zip(evaluations, record["history"], strict=True),
                                             1):
        assert re.fullmatch(
            rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d INFO bench\.train: imagenet-digits partial "
            rf"seed 0: step {5 * number}/15  train loss {history['train_loss']:.4f}  "
            rf"val accuracy {100 * history['val_accuracy']:.1f}%  \d+\.\d s", line), line


def test_configuring_twice_writes_each_line_once(command_line_logging, capsys):
    command_line_logging()
    command_line_logging()
    logging.getLogger("bench.train").info("hello")
    assert capsys.readouterr().err.count("hello") == 1
