"""The link checker that ``make docs`` runs over the built site, on a tiny fake site."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "_sphinxext" / "check_html_links.py"
_spec = importlib.util.spec_from_file_location("check_html_links", SCRIPT)
check_html_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_html_links)


def _site(root, pages):
    for name, body in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    return root


GOOD = {
    "index.html": (
        '<a href="api.html#module-pkg">api</a> <a href="#top">top</a> <a href="#">here</a>'
        '<a href="guide/">guide</a> <a href="https://example.org/x#y">elsewhere</a>'
        '<a href="mailto:a@b.c">mail</a> <img src="_images/f.svg">'
        '<link rel="stylesheet" href="_static/s.css"><script src="_static/s.js"></script>'
        '<a href="_downloads/data.json">raw</a> <span id="top"></span>'
        '<img src="data:image/png;base64,AAAA">'
    ),
    "api.html": '<section id="api"><span id="module-pkg"></span></section>',
    "guide/index.html": '<a href="../api.html#api">up</a> <a name="old-anchor"></a>',
    "guide/page.html": '<a href="index.html#old-anchor">named</a><a href="../index.html">home</a>',
    "_static/webpack-macros.html": "<a href=\"{{ pathto('x') }}\">a theme template</a>",
}


def test_a_sound_site_passes(tmp_path):
    root = _site(tmp_path, GOOD)
    for name in ("_images/f.svg", "_static/s.css", "_static/s.js", "_downloads/data.json"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    assert check_html_links.check_site(root) == []
    assert check_html_links.main([str(root)]) == 0


def test_broken_links_are_reported_one_line_each(tmp_path, capsys):
    root = _site(
        tmp_path,
        {
            "index.html": (
                '<a href="api.html#module-pkg.gone">a module anchor that is not there</a>'
                '<a href="missing.html">a missing page</a>'
                '<a href="#nowhere">a missing anchor on this page</a>'
                '<a href="api.html#module%2Dpkg">an encoded anchor that is there</a>'
                '<a href="../outside.html">out of the site</a>'
            ),
            "api.html": '<span id="module-pkg"></span>',
        },
    )
    (tmp_path.parent / "outside.html").write_text("<html></html>")
    problems = check_html_links.check_site(root)
    assert problems == [
        "index.html: api.html#module-pkg.gone (no anchor #module-pkg.gone)",
        "index.html: missing.html (no such file)",
        "index.html: #nowhere (no anchor #nowhere)",
        "index.html: ../outside.html (outside the site)",
    ]
    assert check_html_links.main([str(root)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == problems
    assert "4 broken links in 2 pages" in captured.err


@pytest.mark.parametrize(
    "tag",
    [
        '<script src="https://cdn.example.org/mathjax/tex-chtml.js"></script>',
        '<link rel="stylesheet" href="https://cdn.example.org/theme.css">',
        '<img src="//cdn.example.org/figure.png">',
    ],
)
def test_what_a_page_loads_from_the_network_is_reported(tmp_path, tag):
    # The site must render offline: scripts, styles and images come from the site.
    root = _site(tmp_path, {"index.html": tag})
    (problem,) = check_html_links.check_site(root)
    assert problem.endswith("(loaded from the network)")


def test_usage_errors(tmp_path, capsys):
    assert check_html_links.main([]) == 2
    assert check_html_links.main([str(tmp_path / "no-such-folder")]) == 2
    assert "not a folder" in capsys.readouterr().err
