"""The defaults that the README, the documentation and the examples quote are the code's.

Every value is read from the code: ``inspect.signature(GANomalyDetector)``
for the parameters, a tiny fit and ``network_sizes`` for what ``'auto'``
resolves to, ``_training`` for the step budget of ``n_epochs='auto'`` (and
the epochs it takes on the data sets the pages name), the command line's
parser for its options, ``PAPER_CONFIG`` for the paper's configuration. When
a default changes, the pages that quote it fail here, each named with the
phrase that quotes it.

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
from sklearn_ganomaly.networks import network_sizes

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
    latent_images, width_images = network_sizes((1, 8, 8))
    latent_table, width_table = network_sizes((TABLE_FEATURES,))
    return {
        "score_method[images]": image_model.score_method_,
        "score_method[tables]": table_model.score_method_,
        "latent_dim[images]": image_model.latent_dim_,
        "width[images]": width_images,
        f"latent_dim[tables, d={TABLE_FEATURES}]": latent_table,
        f"width[tables, d={TABLE_FEATURES}]": width_table,
    }


#: The table the pages size networks for: breast cancer's 30 features.
TABLE_FEATURES = 30
#: Samples given to ``fit`` in the data sets whose epochs the pages count:
#: MNIST-5k and the 8x8 digits with one digit held out, the benign
#: breast-cancer rows (the paper's split).
FIT_SAMPLES = {
    "mnist5k": ("image", 3600),
    "digits": ("image", 1296),
    "breast_cancer": ("table", 286),
}


@pytest.fixture(scope="module")
def expected():
    """Every value a page may quote, by name: parameters, resolutions, constants."""
    from sklearn_ganomaly import _training

    values = dict(DEFAULTS)
    values.update(_resolved())
    values.update({f"PAPER_CONFIG[{key}]": value for key, value in PAPER_CONFIG.items()})
    values["TABLE_FEATURES"] = TABLE_FEATURES
    # The step budget of n_epochs='auto' and the share below which a fit warns.
    share = _training.UNDERTRAINED_SHARE
    values["UNDERTRAINED_SHARE"] = share
    for kind, rate in _training.AUTO_LEARNING_RATE.items():
        values[f"AUTO_LEARNING_RATE[{kind}]"] = rate
    for kind, steps in _training.AUTO_STEPS.items():
        values[f"AUTO_STEPS[{kind}]"] = steps
        values[f"UNDERTRAINED_STEPS[{kind}]"] = share * steps
    # What the budget comes to on the data sets the pages name, with the
    # default batch size and validation share.
    for name, (kind, n_samples) in FIT_SAMPLES.items():
        train, _ = _training.split_rows(n_samples, DEFAULTS["validation_fraction"], 0)
        batches = _training.steps_per_epoch(len(train), DEFAULTS["batch_size"])
        values[f"n_train[{name}]"] = len(train)
        values[f"batches[{name}]"] = batches
        values[f"auto_epochs[{name}]"] = -(-_training.AUTO_STEPS[kind] // batches)
        values[f"warning_epochs[{name}]"] = -(-share * _training.AUTO_STEPS[kind] // batches)
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
    quoted = WORDS_FOR_NUMBERS.get(quoted, quoted)
    if isinstance(value, bool) or value is None:
        return quoted == str(value)
    if isinstance(value, (int, float)):
        number = quoted.replace(",", "")
        try:
            return float(number.rstrip("%")) / (100 if number.endswith("%") else 1) == value
        except ValueError:
            return False
    return quoted == str(value)


#: Numbers the pages write as words.
WORDS_FOR_NUMBERS = {"half": "0.5"}

NUMBER = r"[0-9](?:[0-9,]*[0-9])?(?:\.[0-9]+)?(?:e-?[0-9]+)?%?"  # 15, 2e-4, 4,000, 0.5, 10%

#: (page, pattern, name): the pattern's group ``v`` quotes the value ``name``
#: (a parameter of the signature, or a key of ``expected``) on that page.
QUOTES = [
    # README: the scores, the training paragraph, the GPU paragraph.
    ("README.md", rf"`w_adv=(?P<v>{NUMBER}), w_con=", "w_adv"),
    ("README.md", rf"w_con=(?P<v>{NUMBER}), w_enc=", "w_con"),
    ("README.md", rf"w_enc=(?P<v>{NUMBER})`, Adam", "w_enc"),
    ("README.md", rf"Adam `beta1=(?P<v>{NUMBER})`", "beta1"),
    ("README.md", r"`beta1=0.5`, latent (?P<v>\d+), batch \d+\)", "latent_dim[images]"),
    ("README.md", r"latent \d+, batch (?P<v>\d+)\) on networks", "batch_size"),
    ("README.md", r"half the paper's width \(`width=(?P<v>\d+)` for images\)", "width[images]"),
    (
        "README.md",
        r"By default an image is scored .{0,250}?`score_method='(?P<v>\w+)'`",
        "score_method[images]",
    ),
    (
        "README.md",
        r"A table is scored the same way .{0,80}?`score_method='(?P<v>\w+)'`",
        "score_method[tables]",
    ),
    ("README.md", r"`contamination` \(`'(?P<v>\w+)'` = 1% false alarms", "contamination"),
    ("README.md", r"`device='(?P<v>\w+)'` resolves to cuda", "device"),
    ("README.md", r"the default `precision='(?P<v>\w+)'`", "precision"),
    ("README.md", r"The default `n_epochs='(?P<v>\w+)'`", "n_epochs"),
    (
        "README.md",
        r"optimizer steps, (?P<v>\d+) for images and \d+ for tables",
        "AUTO_STEPS[image]",
    ),
    (
        "README.md",
        r"optimizer steps, \d+ for images and (?P<v>\d+) for tables",
        "AUTO_STEPS[table]",
    ),
    ("README.md", r"fewer than (?P<v>half) as many warns", "UNDERTRAINED_SHARE"),
    # How it works: the networks, the loss weights, the optimiser, the budget.
    ("docs/how_it_works.md", r"`width='auto'` is (?P<v>\d+) for images", "width[images]"),
    (
        "docs/how_it_works.md",
        r"`latent_dim='auto'` is (?P<v>\d+) for images",
        "latent_dim[images]",
    ),
    ("docs/how_it_works.md", rf"`w_con` \((?P<v>{NUMBER})\)", "w_con"),
    ("docs/how_it_works.md", rf"`w_enc` \((?P<v>{NUMBER})\)", "w_enc"),
    ("docs/how_it_works.md", rf"`w_adv` \((?P<v>{NUMBER})\)", "w_adv"),
    ("docs/how_it_works.md", r"Adam \(`learning_rate='(?P<v>\w+)'`: ", "learning_rate"),
    (
        "docs/how_it_works.md",
        rf"`learning_rate='auto'`: (?P<v>{NUMBER}) for images, ",
        "AUTO_LEARNING_RATE[image]",
    ),
    (
        "docs/how_it_works.md",
        rf"`learning_rate='auto'`: {NUMBER} for images, (?P<v>{NUMBER})\s+for tables",
        "AUTO_LEARNING_RATE[table]",
    ),
    ("docs/how_it_works.md", rf"`beta1` (?P<v>{NUMBER})\)", "beta1"),
    ("docs/how_it_works.md", r"`batch_size` (?P<v>\d+), for `n_epochs` epochs", "batch_size"),
    ("docs/how_it_works.md", r"for `n_epochs` epochs \(`'(?P<v>\w+)'`: a number", "n_epochs"),
    ("docs/how_it_works.md", rf"`validation_fraction` \((?P<v>{NUMBER})\)", "validation_fraction"),
    (
        "docs/how_it_works.md",
        r"\*\*`n_epochs='(?P<v>\w+)'`\*\* \(the default\) trains a fixed number",
        "n_epochs",
    ),
    (
        "docs/how_it_works.md",
        r"\*\*(?P<v>\d+) for images, \d+ for tables\*\*",
        "AUTO_STEPS[image]",
    ),
    (
        "docs/how_it_works.md",
        r"\*\*\d+ for images, (?P<v>\d+) for tables\*\*",
        "AUTO_STEPS[table]",
    ),
    (
        "docs/how_it_works.md",
        r"images make (?P<v>\d+) batches an epoch: \d+ epochs",
        "batches[mnist5k]",
    ),
    (
        "docs/how_it_works.md",
        r"images make \d+ batches an epoch: (?P<v>\d+) epochs",
        "auto_epochs[mnist5k]",
    ),
    (
        "docs/how_it_works.md",
        r"1,296 training images, (?P<v>\d+) batches an epoch",
        "batches[digits]",
    ),
    (
        "docs/how_it_works.md",
        r"1,296 training images, \d+ batches an epoch: (?P<v>\d+) epochs",
        "auto_epochs[digits]",
    ),
    ("docs/how_it_works.md", r"table make (?P<v>\d+) batches an epoch", "batches[breast_cancer]"),
    (
        "docs/how_it_works.md",
        r"table make \d+ batches an epoch: (?P<v>\d+) epochs",
        "auto_epochs[breast_cancer]",
    ),
    ("docs/how_it_works.md", r"fewer than (?P<v>half) the `'auto'` steps", "UNDERTRAINED_SHARE"),
    (
        "docs/how_it_works.md",
        r"\((?P<v>\d+) for images, \d+ for tables\) warns",
        "UNDERTRAINED_STEPS[image]",
    ),
    (
        "docs/how_it_works.md",
        r"\(\d+ for images, (?P<v>\d+) for tables\) warns",
        "UNDERTRAINED_STEPS[table]",
    ),
    (
        "docs/how_it_works.md",
        rf"The learning rate\*\* defaults to (?P<v>{NUMBER}) for images",
        "AUTO_LEARNING_RATE[image]",
    ),
    ("docs/how_it_works.md", r"For images the default, `'(?P<v>\w+)'`", "score_method[images]"),
    (
        "docs/how_it_works.md",
        r"for tables, `'(?P<v>\w+)'`, by their Euclidean",
        "score_method[tables]",
    ),
    (
        "docs/how_it_works.md",
        r"`score_method='latent_knn_lof'` for images, `'(?P<v>\w+)'` for tables\)",
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
    ("docs/inputs.md", r"`width='auto'` is (?P<v>\d+) \(the paper's 64\)", "width[images]"),
    ("docs/inputs.md", r"`latent_dim='auto'` is (?P<v>\d+), the paper's", "latent_dim[images]"),
    (
        "docs/inputs.md",
        r"`n_epochs='auto'` trains (?P<v>\d+) optimizer steps at",
        "AUTO_STEPS[image]",
    ),
    (
        "docs/inputs.md",
        r"- \*\*Score.\*\* `score_method='auto'` is `'(?P<v>\w+)'`",
        "score_method[tables]",
    ),
    (
        "docs/inputs.md",
        r"\*\*Epochs.\*\* `n_epochs='auto'` trains (?P<v>\d+) optimizer steps",
        "AUTO_STEPS[table]",
    ),
    # The command line (its synopsis is checked against the parser below).
    ("docs/cli.md", r"`--epochs auto` trains (?P<v>\d+) optimizer steps", "AUTO_STEPS[image]"),
    ("docs/cli.md", r"`--width auto` is (?P<v>\d+)", "width[images]"),
    ("docs/cli.md", r"fewer than (?P<v>half) those steps warns", "UNDERTRAINED_SHARE"),
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
    (
        "docs/pyod.md",
        r"for tables the same read-out with Euclidean distances between the codes "
        r"\(`'(?P<v>\w+)'`\)",
        "score_method[tables]",
    ),
    # Getting started and GPUs.
    (
        "docs/getting_started.md",
        r"fit\(X_train\) # (?P<v>\d+) optimizer steps: \d+ epochs",
        "AUTO_STEPS[image]",
    ),
    (
        "docs/getting_started.md",
        r"fit\(X_train\) # \d+ optimizer steps: (?P<v>\d+) epochs",
        "auto_epochs[digits]",
    ),
    # Benchmarks: the MNIST run used every default.
    (
        "docs/benchmarks.md",
        r"`n_epochs='(?P<v>\w+)'` \(\d+ optimizer\s+steps: \d+ epochs here\)",
        "n_epochs",
    ),
    (
        "docs/benchmarks.md",
        r"`n_epochs='auto'` \((?P<v>\d+) optimizer\s+steps: \d+ epochs here\)",
        "AUTO_STEPS[image]",
    ),
    (
        "docs/benchmarks.md",
        r"`n_epochs='auto'` \(\d+ optimizer\s+steps: (?P<v>\d+) epochs here\)",
        "auto_epochs[mnist5k]",
    ),
    (
        "docs/benchmarks.md",
        r"`score_method='auto'` \(here `(?P<v>\w+)`, with the anchored",
        "score_method[images]",
    ),
    ("docs/benchmarks.md", r"epochs here\), batch (?P<v>\d+), lr", "batch_size"),
    (
        "docs/benchmarks.md",
        rf"batch \d+, lr (?P<v>{NUMBER}), the paper's loss weights",
        "AUTO_LEARNING_RATE[image]",
    ),
    ("docs/benchmarks.md", r"the paper's loss weights, `precision='(?P<v>\w+)'`", "precision"),
    (
        "docs/development_study.md",
        r"The default width for images is (?P<v>\d+)\.",
        "width[images]",
    ),
    (
        "docs/development_study.md",
        r"The default stays the paper's (?P<v>\d+);",
        "latent_dim[images]",
    ),
    (
        "docs/development_study.md",
        r"\*\*Budget: (?P<v>\d+) optimizer steps\.\*\*",
        "AUTO_STEPS[table]",
    ),
    (
        "docs/development_study.md",
        rf"\*\*Images: (?P<v>\d+) optimizer steps at learning rate {NUMBER}\.\*\*",
        "AUTO_STEPS[image]",
    ),
    (
        "docs/development_study.md",
        rf"\*\*Images: \d+ optimizer steps at learning rate (?P<v>{NUMBER})\.\*\*",
        "AUTO_LEARNING_RATE[image]",
    ),
    # The tables page.
    ("docs/tables.md", r"\| (?P<v>\d+) optimizer steps of \d+ rows", "AUTO_STEPS[table]"),
    ("docs/tables.md", r"\| \d+ optimizer steps of (?P<v>\d+) rows", "batch_size"),
    ("docs/tables.md", r"`score_method='auto'` \| `'(?P<v>\w+)'`", "score_method[tables]"),
    # Examples.
    (
        "examples/plot_detect_digits.py",
        r"keeps every default \(DCGAN width (?P<v>\d+), latent size \d+",
        "width[images]",
    ),
    (
        "examples/plot_detect_digits.py",
        r"keeps every default \(DCGAN width \d+, latent size (?P<v>\d+)",
        "latent_dim[images]",
    ),
    (
        "examples/plot_detect_digits.py",
        r"latent size \d+, (?P<v>\d+) optimizer steps\)",
        "AUTO_STEPS[image]",
    ),
    (
        "examples/plot_detect_digits.py",
        r"The (?P<v>1,\d+) images left to train on",
        "n_train[digits]",
    ),
    (
        "examples/plot_detect_digits.py",
        r"left to train on make (?P<v>\d+) batches",
        "batches[digits]",
    ),
    (
        "examples/plot_detect_digits.py",
        r"default ``n_epochs='(?P<v>\w+)'`` trains images",
        "n_epochs",
    ),
    (
        "examples/plot_detect_digits.py",
        r"trains images for (?P<v>\d+) optimizer steps",
        "AUTO_STEPS[image]",
    ),
    ("examples/plot_detect_digits.py", r"epochs: (?P<v>\d+) epochs here", "auto_epochs[digits]"),
    (
        "examples/plot_detect_digits.py",
        r"A fixed ``n_epochs`` under (?P<v>\d+) \(fewer than",
        "warning_epochs[digits]",
    ),
    (
        "examples/plot_detect_digits.py",
        r"\(fewer than (?P<v>\d+) steps, half the budget\)",
        "UNDERTRAINED_STEPS[image]",
    ),
    (
        "examples/plot_detect_digits.py",
        r"``score_method='auto'``, here ``'(?P<v>\w+)'``",
        "score_method[images]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"(?P<v>\d+) rows train \(10%",
        "n_train[breast_cancer]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"in (?P<v>\d+) batches an epoch",
        "batches[breast_cancer]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"default ``n_epochs='(?P<v>\w+)'`` trains tables",
        "n_epochs",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"trains tables for (?P<v>\d+) optimizer steps",
        "AUTO_STEPS[table]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"optimizer steps, (?P<v>\d+) epochs here",
        "auto_epochs[breast_cancer]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"the networks have (?P<v>\d+) hidden units",
        f"width[tables, d={TABLE_FEATURES}]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"hidden units and a code of (?P<v>\d+) numbers",
        f"latent_dim[tables, d={TABLE_FEATURES}]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"a table of (?P<v>\d+) features",
        "TABLE_FEATURES",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"local outlier factor \(``'(?P<v>\w+)'``\)",
        "score_method[tables]",
    ),
    (
        "examples/plot_tabular_pipeline.py",
        r"``'(?P<v>\w+)'`` \(the default\) assumes clean",
        "contamination",
    ),
]

#: (page, pattern, index): the pattern's group ``f`` quotes, as a formula of
#: ``d``, what ``network_sizes`` gives a table of ``d`` features at ``index``
#: (0: ``latent_dim``, 1: ``width``).
FORMULA = r"(?P<f>min\([\w\s(),*+-]*\))"
FORMULAS = [
    ("docs/how_it_works.md", rf"32 for images and `{FORMULA}` for a table of `d`", 1),
    ("docs/how_it_works.md", rf"\(the paper's\) and `{FORMULA}` for tables", 0),
    ("docs/inputs.md", rf"`width='auto'` is `{FORMULA}`", 1),
    ("docs/inputs.md", rf"`latent_dim='auto'` is `{FORMULA}`", 0),
]


@pytest.mark.parametrize(
    "page, pattern, index",
    FORMULAS,
    ids=[f"{p}:{('latent_dim', 'width')[i]}" for p, _, i in FORMULAS],
)
def test_quoted_size_formula_matches_the_code(page, pattern, index):
    matches = list(re.finditer(pattern, _text(ROOT / page)))
    assert matches, f"{page} no longer says /{pattern}/: update the quote or this entry"
    for match in matches:
        for d in range(1, 400):
            quoted = eval(match["f"], {"__builtins__": {}, "min": min, "max": max, "d": d})
            assert quoted == network_sizes((d,))[index], (match["f"], d)


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
    assert not _same("32", DEFAULTS["width"]) and _same("'auto'", DEFAULTS["width"])
    assert _same("half", 0.5)
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
