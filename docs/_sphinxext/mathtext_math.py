"""Math drawn at build time by matplotlib's mathtext, as SVG images.

Sphinx's default renderer, MathJax, loads a script from a CDN when the page is
viewed: offline, every formula shows as raw TeX. ``sphinx.ext.imgmath`` needs
a LaTeX installation. matplotlib is already a dependency of the docs (the
gallery, the pipeline figure), and its mathtext draws the TeX subset these
pages use, so each formula becomes one small SVG file under
``_images/math/``, its glyphs drawn as paths: no fonts, scripts or network are
needed to show it. A formula mathtext cannot parse fails the build, naming it.

The images are sized in ``em`` so that they scale with the text around them,
and inline ones sit on the text's baseline (their depth below it is measured
by mathtext). They are black on a transparent background; ``_static/custom.css``
inverts them for the theme's dark mode.
"""

import hashlib
import html
import io
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError

#: Size in points at which formulas are drawn; the page rescales them to its
#: own text size, so a large value only buys precision in the measurements.
DRAW_POINTS = 40.0
#: Display formulas are drawn a little larger than the text, as LaTeX does.
DISPLAY_SCALE = 1.15
#: Standard TeX that mathtext spells differently.
SUBSTITUTIONS = {r"\lVert": r"\Vert", r"\rVert": r"\Vert", r"\lvert": "|", r"\rvert": "|"}


def render(latex, directory):
    """Draw ``latex`` into ``directory``; return (file name, width, height, depth) in em."""
    from matplotlib import mathtext
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    source = latex.strip()
    for old, new in SUBSTITUTIONS.items():
        source = source.replace(old, new)
    name = "math-" + hashlib.sha1(source.encode("utf-8")).hexdigest()[:16] + ".svg"
    prop = FontProperties(size=DRAW_POINTS)
    try:
        # At 72 dpi one pixel is one point, the SVG's own unit.
        width, height, depth = mathtext.MathTextParser("path").parse(
            f"${source}$", dpi=72, prop=prop
        )[:3]
        # What mathtext.math_to_image does, with the SVG's date left out so that
        # a formula always gives the same file.
        figure = Figure(figsize=(width / 72, height / 72))
        figure.text(0, depth / height, f"${source}$", fontproperties=prop)
        buffer = io.BytesIO()
        figure.savefig(buffer, dpi=72, format="svg", metadata={"Date": None}, transparent=True)
    except ValueError as error:
        raise ExtensionError(f"mathtext cannot draw the formula {latex!r}: {error}") from error
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if not path.exists():  # pages that share a formula share its file
        path.write_bytes(buffer.getvalue())
    return name, width / DRAW_POINTS, height / DRAW_POINTS, depth / DRAW_POINTS


def _image(translator, latex, scale=1.0):
    directory = Path(translator.builder.outdir) / translator.builder.imagedir / "math"
    name, width, height, depth = render(latex, directory)
    src = f"{translator.builder.imgpath}/math/{name}"
    style = (
        f"width: {width * scale:.3f}em; height: {height * scale:.3f}em; "
        f"vertical-align: {-depth * scale:.3f}em"
    )
    alt = html.escape(latex.strip(), quote=True)
    # "dark-light": the theme leaves such images to our own dark-mode style.
    return f'<img class="math dark-light" src="{src}" alt="{alt}" style="{style}"/>'


def visit_inline(translator, node):
    translator.body.append(_image(translator, node.astext()))
    raise nodes.SkipNode


def visit_display(translator, node):
    translator.body.append(translator.starttag(node, "div", CLASS="math math-display"))
    translator.body.append(_image(translator, node.astext(), DISPLAY_SCALE))
    translator.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathtext", (visit_inline, None), (visit_display, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
