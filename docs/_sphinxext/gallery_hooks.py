"""Hooks of the example gallery, named by string in ``conf.py``.

sphinx-gallery imports them by their qualified names, which keeps Sphinx's
configuration picklable (a function defined in ``conf.py`` is not, and Sphinx
warns about it, which ``-W`` turns into an error).
"""

from pathlib import Path

#: Command-line arguments each example runs with in the gallery. The examples
#: that double as command-line scripts keep heavier defaults for a terminal;
#: the gallery runs them on small data so that every example takes well under
#: two minutes on two CPU cores. Their docstrings say which arguments these are.
GALLERY_ARGV = {
    "plot_compare_pyod.py": ["--datasets", "digits", "breast_cancer"],
    "plot_tune_mnist.py": ["--dataset", "digits"],
}

#: Examples that always save their figure to ``--figure``: in the gallery it is
#: written next to the generated page rather than into ``examples/``.
SAVES_FIGURE = {"plot_compare_pyod.py"}

# Figures already shown, per example file.
_shown = {}


def reset_argv(gallery_conf, script_vars):
    """The arguments ``sys.argv[1:]`` of one example (sphinx-gallery's ``reset_argv``)."""
    name = Path(script_vars["src_file"]).name
    argv = list(GALLERY_ARGV.get(name, []))
    if name in SAVES_FIGURE:
        argv += ["--figure", str(Path(script_vars["target_file"]).with_suffix(".png"))]
    return argv


def figure_scraper(block, block_vars, gallery_conf):
    """Show figures built without pyplot that a code block left in a global.

    :mod:`sklearn_ganomaly.plotting` returns ``matplotlib.figure.Figure``
    objects that pyplot does not manage, so sphinx-gallery's own matplotlib
    scraper never sees them. This scraper saves every such figure bound to a
    module-level name of the example the first time it appears.
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    shown = _shown.setdefault(block_vars["src_file"], [])
    paths = []
    for value in list(block_vars["example_globals"].values()):
        if not isinstance(value, Figure) or value.canvas.manager is not None:
            continue  # not a figure, or one pyplot manages (and the matplotlib scraper saves)
        if any(value is seen for seen in shown):
            continue
        shown.append(value)
        path = next(block_vars["image_path_iterator"])
        value.savefig(path, dpi=100)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
