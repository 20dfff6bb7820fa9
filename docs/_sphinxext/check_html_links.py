"""Check the links of the built documentation: ``python check_html_links.py docs/_build/html``.

Sphinx checks cross-references it resolves itself, but not a Markdown link to
``api.html#module-...``, a raw HTML anchor, or a fragment that a theme or
sphinx-gallery writes. This walks every ``.html`` file of the built site and
fails (exit status 1, one line per problem) on

- a link to a file of the site that does not exist;
- a ``#fragment`` that no ``id`` (or ``<a name>``) of the target page defines;
- a script, stylesheet, image or frame loaded from the network: the site must
  render offline, so everything a page loads comes from the site itself.

Links to other sites (``https://...``, ``mailto:``) are not followed: the check
runs offline. ``make docs`` runs it after ``sphinx-build``.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Attributes that make the browser fetch something while showing the page.
_LOADED = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src")}
#: ``<link rel=...>`` values that are fetched as the page renders.
_LOADED_REL = {"stylesheet", "icon", "preload", "modulepreload", "shortcut"}


class _Page(HTMLParser):
    """The ids one HTML page defines and the URLs it points at."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (url, loaded while rendering)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name" if tag == "a" else None):
            if name and attrs.get(name):
                self.ids.add(attrs[name])
        if tag in ("a", "area") and attrs.get("href") is not None:
            self.links.append((attrs["href"], False))
        elif tag == "link" and attrs.get("href") is not None:
            rel = set((attrs.get("rel") or "").lower().split())
            self.links.append((attrs["href"], bool(rel & _LOADED_REL)))
        for element, attribute in _LOADED:
            if tag == element and attrs.get(attribute):
                self.links.append((attrs[attribute], True))

    handle_startendtag = handle_starttag


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


def _pages(root):
    # _static/ holds the theme's Jinja templates (webpack-macros.html), not pages.
    return [path for path in sorted(root.rglob("*.html")) if "_static" not in path.parts]


def check_site(root):
    """Problems found in the HTML site under ``root``, as ``'page: url (why)'`` lines."""
    root = Path(root).resolve()
    pages = {path: _parse(path) for path in _pages(root)}
    problems = []
    for path, page in pages.items():
        where = path.relative_to(root).as_posix()
        for url, loaded in page.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                if loaded and parts.scheme in ("http", "https", ""):
                    problems.append(f"{where}: {url} (loaded from the network)")
                continue  # another site, or mailto:, javascript:, data: ...
            target = path
            if parts.path:
                target = (path.parent / unquote(parts.path)).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_relative_to(root):
                    problems.append(f"{where}: {url} (outside the site)")
                    continue
                if not target.exists():
                    problems.append(f"{where}: {url} (no such file)")
                    continue
            fragment = unquote(parts.fragment)
            if not fragment or target.suffix != ".html":
                continue  # '#' alone is the top of the page; files have no anchors
            if target not in pages:
                pages[target] = _parse(target)
            if fragment not in pages[target].ids:
                problems.append(f"{where}: {url} (no anchor #{fragment})")
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: check_html_links.py HTML_DIR", file=sys.stderr)
        return 2
    root = Path(argv[0])
    if not root.is_dir():
        print(f"check_html_links.py: {root} is not a folder", file=sys.stderr)
        return 2
    problems = check_site(root)
    for line in problems:
        print(line)
    n_pages = len(_pages(root.resolve()))
    if problems:
        print(f"{len(problems)} broken links in {n_pages} pages of {root}", file=sys.stderr)
        return 1
    print(f"Links and anchors of {n_pages} pages of {root}: all resolve.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
