"""Sphinx configuration of the sklearn-ganomaly documentation.

Built offline with warnings as errors by ``make docs`` (``sphinx-build -W``):
no extension here reaches the network (intersphinx is off), and every page is
either Markdown read by myst-parser, reStructuredText, or generated from the
docstrings (autosummary + numpydoc) and the examples (sphinx-gallery). The
pages load nothing from the network either: formulas are drawn into SVG files
at build time (``_sphinxext/mathtext_math.py``), and ``make docs`` then checks
every link, anchor and loaded file of the built site
(``_sphinxext/check_html_links.py``).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_sphinxext"))  # gallery hooks, named by string below
sys.path.insert(0, str(DOCS.parent))  # the package, also when it is not installed

os.environ.setdefault("MPLBACKEND", "Agg")

import benchmark_figures  # noqa: E402
import pipeline_figure  # noqa: E402
import study_figures  # noqa: E402

import sklearn_ganomaly  # noqa: E402

# The user guide's figure of the GANomaly pipeline, drawn before Sphinx reads
# the sources (docs/generated/ is build output, like the API pages there).
(DOCS / "generated").mkdir(exist_ok=True)
pipeline_figure.draw(DOCS / "generated" / "ganomaly_pipeline.svg")
# The benchmarks page's MNIST figure and tables, from the raw results it links.
benchmark_figures.write(DOCS / "generated")
# The development study's figures, from its summaries in docs/benchmarks/study/.
study_figures.write(DOCS / "generated")

project = "sklearn-ganomaly"
author = "the sklearn-ganomaly developers"
copyright = "the sklearn-ganomaly developers"
version = release = sklearn_ganomaly.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "mathtext_math",  # formulas drawn at build time, so that they show offline
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "_sphinxext",
    "benchmarks/**",  # raw benchmark outputs, linked from benchmarks.md
    "generated/*.md",  # tables included by benchmarks.md, not pages of their own
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "sg_execution_times.rst",
    "auto_examples/sg_execution_times.rst",  # left by builds before it was turned off
]

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists the methods itself
numpydoc_class_members_toctree = False

# -- Markdown -----------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# -- Examples -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "ignore_pattern": r"__init__\.py",
    "image_scrapers": ("matplotlib", "gallery_hooks.figure_scraper"),
    "reset_argv": "gallery_hooks.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sklearn_ganomaly",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_ganomaly": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    # The execution-times page loads jQuery and DataTables from a CDN: no such
    # page, so that the site renders offline (check_html_links.py checks it).
    "write_computation_times": False,
}

# -- HTML ---------------------------------------------------------------------
html_math_renderer = "mathtext"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-ganomaly {release}"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "secondary_sidebar_items": ["page-toc"],
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "getting_started": [], "changelog": []}
html_show_sourcelink = False


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata routing)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
