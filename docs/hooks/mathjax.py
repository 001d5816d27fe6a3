"""MkDocs hook: serve MathJax from the site itself, copied from the django-static-mathjax package.

The site then renders its formulas offline and asks no other server for anything. Only what the
`tex-chtml` component loads is copied: the component, the TeX extensions it may autoload, the CHTML
fonts, the menu and the licence.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

PACKAGE = "django-static-mathjax"  # MathJax 3 (Apache-2.0), packaged for Django but needing nothing else
ROOT = "mathjax/static/mathjax/"  # where the package keeps MathJax
TARGET = "assets/mathjax/"  # where the site serves it (see extra_javascript in mkdocs.yml)
WANTED = (
    "es5/tex-chtml.js",
    "es5/input/tex/extensions/",
    "es5/output/chtml/fonts/woff-v2/",
    "es5/ui/",
    "LICENSE",
)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    try:
        package = distribution(PACKAGE)
    except PackageNotFoundError:
        raise PluginError(
            f"MathJax is served from the {PACKAGE} package, which is not installed: pip install -e '.[docs]'"
        ) from None
    copied = 0
    for item in package.files or ():
        path = item.as_posix()
        if not path.startswith(ROOT):
            continue
        inside = path[len(ROOT) :]
        if not any(inside == part or (part.endswith("/") and inside.startswith(part)) for part in WANTED):
            continue
        destination = TARGET + inside.removeprefix("es5/")
        files.append(File.generated(config, destination, abs_src_path=str(package.locate_file(item))))
        copied += 1
    if not copied:
        raise PluginError(f"the {PACKAGE} package has no MathJax files under {ROOT}")
    return files
