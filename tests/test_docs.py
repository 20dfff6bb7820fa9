"""The defaults that the README, the documentation and the examples quote are the code's.

Every value is read from the code: ``inspect.signature(GANomalyDetector)``
for the parameters, a tiny fit for what ``'auto'`` resolves to, the command
line's parser for its options, ``PAPER_CONFIG`` for the paper's
configuration. When a default changes, the pages that quote it fail here,
each named with the phrase that quotes it.

Two kinds of checks:

- ``QUOTES``: each phrase that quotes a default, page by page; the phrase
  must still be on its page (so that rewording a page means revisiting the
  entry) and must quote the code's value;
- scans of every page for the common ways of stating a default ("the default
  15 epochs", "`warm_start=False` (the default)", "`--width` (default 32)",
  a synopsis's ``[--width 32]``), which catch a quote no entry lists yet.
"""

import argparse
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from sklearn_ganomaly import PAPER_CONFIG, GANomalyDetector

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(GANomalyDetector).parameters.items()
}
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").glob("*.py")]
)


def _resolved():
    """What the ``'auto'`` defaults resolve to, from two tiny fits."""
    images = np.random.RandomState(0).uniform(0, 16, size=(40, 8, 8))
    table = np.random.RandomState(0).normal(size=(40, 8))
    tiny = dict(width=2, n_epochs=1, batch_size=16, random_state=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a one-epoch fit says it is undertrained
        image_model = GANomalyDetector(**tiny).fit(images)
        table_model = GANomalyDetector(**tiny).fit(table)
    return {
        "score_method[images]": image_model.score_method_,
        "score_method[tables]": table_model.score_method_,
        "latent_dim[images]": image_model.latent_dim_,
    }


@pytest.fixture(scope="module")
def expected():
    """Every value a page may quote, by name: parameters, resolutions, constants."""
    from sklearn_ganomaly import _training

    values = dict(DEFAULTS)
    values.update(_resolved())
    values.update({f"PAPER_CONFIG[{key}]": value for key, value in PAPER_CONFIG.items()})
    # The training budget that n_epochs='auto' takes and the undertraining warning reads.
    values["AUTO_MIN_STEPS"] = _training.AUTO_MIN_STEPS
    values["AUTO_MAX_STEPS"] = _training.AUTO_MAX_STEPS
    return values


def _text(path):
    """The page as one line: runs of whitespace, and comment markers of examples, as one space."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        text = re.sub(r"\n[ \t]*#[ \t]?", "\n", text)
    return re.sub(r"\s+", " ", text)


def _same(quoted, value):
    """Whether the text ``quoted`` states ``value``."""
    quoted = quoted.strip().strip("`*").strip("'\"")
    if isinstance(value, bool) or value is None:
        return quoted == str(value)
    if isinstance(value, (int, float)):
        number = quoted.replace(",", "")
        try:
            return float(number.rstrip("%")) / (100 if number.endswith("%") else 1) == value
        except ValueError:
            return False
    return quoted == str(value)


NUMBER = r"[0-9](?:[0-9,]*[0-9])?(?:\.[0-9]+)?(?:e-?[0-9]+)?%?"  # 15, 2e-4, 4,000, 0.5, 10%

#: (page, pattern, name): the pattern's group ``v`` quotes the value ``name``
#: (a parameter of the signature, or a key of ``expected``) on that page.
QUOTES = [
    # README: the training paragraph and the scores.
    ("README.md", rf"`w_adv=(?P<v>{NUMBER}), w_con=", "w_adv"),
    ("README.md", rf"w_con=(?P<v>{NUMBER}), w_enc=", "w_con"),
    ("README.md", rf"w_enc=(?P<v>{NUMBER})`, Adam", "w_enc"),
    ("README.md", rf"Adam `beta1=(?P<v>{NUMBER})`", "beta1"),
    (
        "README.md",
        r"latent (?P<v>\d+), batch \d+, \d+ epochs\) on networks",
        "latent_dim[images]",
    ),
    ("README.md", r"batch (?P<v>\d+), \d+ epochs\) on networks", "batch_size"),
    ("README.md", r"batch \d+, (?P<v>\d+) epochs\) on networks", "n_epochs"),
    ("README.md", r"half the paper's width \(`width=(?P<v>\d+)`\)", "width"),
    (
        "README.md",
        r"By default an image is scored .{0,250}?`score_method='(?P<v>\w+)'`",
        "score_method[images]",
    ),
    ("README.md", r"`contamination` \(`'(?P<v>\w+)'` = 1% false alarms", "contamination"),
    ("README.md", r"`device='(?P<v>\w+)'` resolves to cuda", "device"),
    ("README.md", r"the default `precision='(?P<v>\w+)'`", "precision"),
    ("README.md", r"at least (?P<v>\d+) optimizer steps", "AUTO_MIN_STEPS"),
    # How it works: the loss weights, the optimiser, the budget.
    ("docs/how_it_works.md", rf"`w_con` \((?P<v>{NUMBER})\)", "w_con"),
    ("docs/how_it_works.md", rf"`w_enc` \((?P<v>{NUMBER})\)", "w_enc"),
    ("docs/how_it_works.md", rf"`w_adv` \((?P<v>{NUMBER})\)", "w_adv"),
    ("docs/how_it_works.md", rf"`learning_rate` (?P<v>{NUMBER}), `beta1`", "learning_rate"),
    ("docs/how_it_works.md", rf"`beta1` (?P<v>{NUMBER})\)", "beta1"),
    ("docs/how_it_works.md", r"`batch_size` (?P<v>\d+), for `n_epochs` epochs", "batch_size"),
    ("docs/how_it_works.md", r"for `n_epochs` epochs \((?P<v>\d+), the paper's", "n_epochs"),
    ("docs/how_it_works.md", rf"`validation_fraction` \((?P<v>{NUMBER})\)", "validation_fraction"),
    ("docs/how_it_works.md", r"The default, (?P<v>\d+) epochs", "n_epochs"),
    ("docs/how_it_works.md", r"fit took fewer than (?P<v>\d+) steps", "AUTO_MIN_STEPS"),
    (
        "docs/how_it_works.md",
        r"sizes the budget to the data: at least (?P<v>\d+) steps",
        "AUTO_MIN_STEPS",
    ),
    ("docs/how_it_works.md", rf"at most (?P<v>{NUMBER}) steps", "AUTO_MAX_STEPS"),
    (
        "docs/how_it_works.md",
        rf"The learning rate\*\* defaults to (?P<v>{NUMBER})",
        "learning_rate",
    ),
    ("docs/how_it_works.md", r"For images the default, `'(?P<v>\w+)'`", "score_method[images]"),
    (
        "docs/how_it_works.md",
        r"It is the default for tables \(`score_method='auto'` resolves to `'(?P<v>\w+)'`",
        "score_method[tables]",
    ),
    # Scores and thresholds.
    (
        "docs/scores.md",
        r"\| `'(?P<v>\w+)'` \(default\) \| `'latent_knn_lof'` for images",
        "score_method",
    ),
    (
        "docs/scores.md",
        r"\| `'auto'` \(default\) \| `'(?P<v>\w+)'` for images",
        "score_method[images]",
    ),
    ("docs/scores.md", r"for images, `'(?P<v>\w+)'` for tables \|", "score_method[tables]"),
    (
        "docs/scores.md",
        r"- `'(?P<v>\w+)'` \(default\) assumes the training data is clean",
        "contamination",
    ),
    (
        "docs/scores.md",
        r"For tables `score_method='auto'` resolves to `'(?P<v>\w+)'`",
        "score_method[tables]",
    ),
    (
        "docs/scores.md",
        r"PAPER_CONFIG\)` \(latent distance, width (?P<v>\d+), \d+ epochs\)",
        "PAPER_CONFIG[width]",
    ),
    (
        "docs/scores.md",
        r"PAPER_CONFIG\)` \(latent distance, width \d+, (?P<v>\d+) epochs\)",
        "PAPER_CONFIG[n_epochs]",
    ),
    # Images and tables.
    ("docs/inputs.md", r"at half its width: `width=(?P<v>\d+)`", "width"),
    (
        "docs/inputs.md",
        r"\(the paper's 64\), latent size (?P<v>\d+), \d+ epochs",
        "latent_dim[images]",
    ),
    ("docs/inputs.md", r"\(the paper's 64\), latent size \d+, (?P<v>\d+) epochs", "n_epochs"),
    ("docs/inputs.md", r"so the default (?P<v>\d+) epochs are too few", "n_epochs"),
    # The command line (its synopsis is checked against the parser below).
    ("docs/cli.md", r"more than the default (?P<v>\d+) epochs", "n_epochs"),
    (
        "docs/cli.md",
        r"`--score-method` is `score_method` \(`auto`: .{0,80}?`(?P<v>latent\w*)`\)",
        "score_method[images]",
    ),
    (
        "docs/cli.md",
        r"by default the image code's distance to the training images' codes, `(?P<v>\w+)`",
        "score_method[images]",
    ),
    # PyOD.
    (
        "docs/pyod.md",
        r"By default \(`score_method='auto'`\) that is, for images, .{0,120}?\(`'(?P<v>\w+)'`",
        "score_method[images]",
    ),
    # Benchmarks: the reported run used every default.
    (
        "docs/benchmarks.md",
        r"every parameter at its default: `score_method='(?P<v>\w+)'`",
        "score_method",
    ),
    (
        "docs/benchmarks.md",
        r"every parameter at its default: `score_method='auto'` \(here `(?P<v>\w+)`\)",
        "score_method[images]",
    ),
    ("docs/benchmarks.md", r"\(here `latent_knn_lof`\), width (?P<v>\d+), latent \d+", "width"),
    (
        "docs/benchmarks.md",
        r"width \d+, latent (?P<v>\d+), \d+ epochs, batch",
        "latent_dim[images]",
    ),
    ("docs/benchmarks.md", r"latent \d+, (?P<v>\d+) epochs, batch \d+, lr", "n_epochs"),
    ("docs/benchmarks.md", r"epochs, batch (?P<v>\d+), lr", "batch_size"),
    (
        "docs/benchmarks.md",
        rf"batch \d+, lr (?P<v>{NUMBER}), the paper's loss weights",
        "learning_rate",
    ),
    ("docs/benchmarks.md", r"the paper's loss weights, `precision='(?P<v>\w+)'`", "precision"),
    (
        "docs/benchmarks.md",
        r"GANomaly at its defaults \(for tables `score_method='auto'` is the "
        r"(?P<v>latent) distance\)",
        "score_method[tables]",
    ),
    (
        "docs/benchmarks.md",
        r"at (?P<v>\d+) epochs that is a few dozen optimizer steps",
        "n_epochs",
    ),
    ("docs/development_study.md", r"The default width is (?P<v>\d+)\.", "width"),
    (
        "docs/development_study.md",
        r"The default stays the paper's (?P<v>\d+);",
        "latent_dim[images]",
    ),
    ("docs/development_study.md", r"The default (?P<v>\d+) epochs are too few", "n_epochs"),
    (
        "docs/development_study.md",
        rf"so the default stays at the reference code's (?P<v>{NUMBER})\.",
        "learning_rate",
    ),
    # Examples.
    (
        "examples/plot_detect_digits.py",
        r"keeps its defaults \(DCGAN width (?P<v>\d+), latent size \d+\)",
        "width",
    ),
    (
        "examples/plot_detect_digits.py",
        r"keeps its defaults \(DCGAN width \d+, latent size (?P<v>\d+)\)",
        "latent_dim[images]",
    ),
    ("examples/plot_detect_digits.py", r"the default (?P<v>\d+) epochs suit", "n_epochs"),
    (
        "examples/plot_detect_digits.py",
        r"fewer than the (?P<v>\d+) below which the detector warns",
        "AUTO_MIN_STEPS",
    ),
    (
        "examples/plot_detect_digits.py",
        r"(?P<v>\d+) steps at least, then on until",
        "AUTO_MIN_STEPS",
    ),
    (
        "examples/plot_detect_digits.py",
        r"``score_method='auto'``, here ``'(?P<v>\w+)'``",
        "score_method[images]",
    ),
    ("examples/plot_tabular_pipeline.py", r"the default (?P<v>\d+) would warn", "n_epochs"),
    (
        "examples/plot_tabular_pipeline.py",
        r"give the (?P<v>\d+) optimizer steps a fit needs",
        "AUTO_MIN_STEPS",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"``'(?P<v>\w+)'`` \(the default\) assumes clean",
        "contamination",
    ),
]

#: Words a page uses for a parameter in prose ("the default 15 epochs").
WORDS = {
    "n_epochs": r"epochs",
    "width": r"(?:DCGAN )?width",
    "batch_size": r"batch(?: size)?",
    "learning_rate": r"(?:lr|learning rate)",
}
#: Options of the command line and the parameter each sets.
FLAGS = {
    "--epochs": "n_epochs",
    "--width": "width",
    "--batch-size": "batch_size",
    "--learning-rate": "learning_rate",
    "--score-method": "score_method",
    "--contamination": "contamination",
    "--device": "device",
}


@pytest.mark.parametrize(
    "page, pattern, name", QUOTES, ids=[f"{p}:{n}:{i}" for i, (p, _, n) in enumerate(QUOTES)]
)
def test_quoted_default_matches_the_code(expected, page, pattern, name):
    matches = list(re.finditer(pattern, _text(ROOT / page)))
    assert matches, f"{page} no longer says /{pattern}/: update the quote or this entry"
    for match in matches:
        assert _same(match["v"], expected[name]), (
            f"{page} quotes {name} as {match['v']!r} in {match[0]!r}; the code says "
            f"{expected[name]!r}"
        )


def _default_claims(text):
    """(parameter, quoted value, phrase) for each generic statement of a default."""
    params = "|".join(sorted(DEFAULTS, key=len, reverse=True))
    literal = r"'[^']*'|\"[^\"]*\"|[\w.+-]+"
    patterns = [
        # `warm_start=False` (the default), device='auto' (the default)
        rf"`?\b(?P<p>{params})=(?P<v>{literal})`? \((?:the )?default\)",
        # the default `precision='auto'`, (default `width=32`)
        rf"\bdefault `(?P<p>{params})=(?P<v>{literal})`",
        # `width` (default 32), `n_epochs` defaults to 15
        rf"`(?P<p>{params})` (?:\(default:? |defaults to )(?P<v>{literal})",
    ]
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            yield match["p"], match["v"], match[0]
    for name, word in WORDS.items():
        for pattern in [
            rf"\bdefaults?,? (?:is |of )?(?P<v>{NUMBER}) {word}\b",  # the default 15 epochs
            rf"\bdefault {word} (?:is |of )?(?P<v>{NUMBER})",  # the default width is 32
            rf"\b{word} (?P<v>{NUMBER}) \((?:the )?default\)",  # width 32 (the default)
        ]:
            for match in re.finditer(pattern, text, flags=re.IGNORECASE):
                yield name, match["v"], match[0]
    for flag, name in FLAGS.items():
        for match in re.finditer(rf"`{flag}` \(default (?P<v>{literal})", text):
            yield name, match["v"], match[0]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_stated_defaults_match_the_signature(page):
    wrong = [
        f"{phrase!r} says {name}={value}, the code's default is {DEFAULTS[name]!r}"
        for name, value, phrase in _default_claims(_text(page))
        if not _same(value, DEFAULTS[name])
    ]
    assert not wrong, f"{page.relative_to(ROOT)}: " + "; ".join(wrong)


def test_the_scan_finds_stated_defaults():
    text = (
        "Train for the default 15 epochs. `warm_start=True` (the default) is off. "
        "The default width is 64. Set `learning_rate` (default 2e-3). "
        "`--epochs` (default 30). width 64 (the paper's) is not a claim."
    )
    claims = {(name, value) for name, value, _ in _default_claims(text)}
    assert claims == {
        ("n_epochs", "15"),
        ("warm_start", "True"),
        ("width", "64"),
        ("learning_rate", "2e-3"),
        ("n_epochs", "30"),
    }
    assert not _same("64", DEFAULTS["width"]) and _same("32", DEFAULTS["width"])
    assert _same("10%", 0.1) and _same("2e-4", 2e-4) and _same("'auto'", "auto")


def _subcommands():
    from sklearn_ganomaly.cli import build_parser

    (subparsers,) = [
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    return subparsers.choices


def test_cli_synopsis_quotes_the_parser_defaults():
    """``[--width 32]`` in the synopsis of docs/cli.md is the parser's default."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    synopsis = text.split("```", 2)[1]  # the first code block
    commands = _subcommands()
    checked = 0
    for line in re.split(r"\n(?=sklearn-ganomaly )", synopsis.strip()):
        command = commands[line.split()[1]]
        options = {opt: action for action in command._actions for opt in action.option_strings}
        for flag, value in re.findall(r"\[(--?[\w-]+) ([^\]\s]+)\]", line):
            first = value.split("|")[0]
            if first.isupper() or len(first) == 1 and first.isalpha() and first != "L":
                continue  # a placeholder: N, S, T, F
            assert flag in options, f"the synopsis of `{line.split()[1]}` names no {flag}"
            assert _same(first, options[flag].default), (
                f"docs/cli.md shows [{flag} {value}]; the parser's default is "
                f"{options[flag].default!r}"
            )
            checked += 1
    assert checked >= 8


def test_cli_train_defaults_are_the_estimator_defaults():
    """What docs/cli.md says: train's options default to the estimator's parameters."""
    options = {
        opt: action for action in _subcommands()["train"]._actions for opt in action.option_strings
    }
    for flag, name in FLAGS.items():
        assert _same(str(options[flag].default), DEFAULTS[name]), flag


def test_pyod_page_lists_every_parameter():
    """docs/pyod.md lists the detector's parameters that the adapter takes."""
    text = _text(ROOT / "docs" / "pyod.md")
    match = re.search(r"except its own `contamination`, with the same defaults \(([^)]*)\)", text)
    assert match, "docs/pyod.md no longer lists the parameters"
    listed = re.findall(r"`(\w+)`", match[1])
    assert listed == [name for name in DEFAULTS if name != "contamination"]
