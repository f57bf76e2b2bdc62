"""A griffe extension for the API reference: the reStructuredText of geoconv's docstrings, as Markdown.

The docstrings follow PyTorch Geometric's style (Google sections, with ``.. math::`` blocks, ``:math:`` and
``:class:`` roles and ```text <url>`_`` links); mkdocstrings renders Markdown.  This rewrites those few
constructs when griffe loads a docstring, so that the source stays as it is:

* ``.. math::`` and its indented block -> a ``$$ ... $$`` display (MathJax through pymdownx.arithmatex);
* ``:math:`x``` -> ``$x$``;
* ``:class:`~a.b.C``` (and ``:func:``, ``:meth:``, ``:attr:``, ``:data:``, ``:mod:``, ``:exc:``) -> ```C``` (a
  leading ``~`` keeps the last component, as Sphinx does);
* ```text <url>`_`` -> ``[text](url)``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const):`(~?)([^`]+)`")
MATH_ROLE = re.compile(r":math:`([^`]+)`")
LINK = re.compile(r"`([^`<]+?)\s*<(https?://[^>]+)>`_{1,2}")


def _role(match: re.Match) -> str:
    tilde, target = match.groups()
    target = target.strip()
    if "<" in target and target.endswith(">"):  # :class:`text <target>`
        return f"`{target.split('<', 1)[0].strip()}`"
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def convert(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith(".. math::"):
            indent = line[: len(line) - len(line.lstrip())]
            inline = stripped[len(".. math::"):].strip()
            body = [inline] if inline else []
            index += 1
            while index < len(lines) and (not lines[index].strip() or
                                          len(lines[index]) - len(lines[index].lstrip()) > len(indent)):
                body.append(lines[index].strip())
                index += 1
            while body and not body[-1]:
                body.pop()
            out += [indent + "$$", *[indent + item for item in body if item], indent + "$$"]
            if index < len(lines) and lines[index].strip():
                out.append("")
            continue
        out.append(line)
        index += 1
    text = "\n".join(out)
    text = MATH_ROLE.sub(lambda m: f"${m.group(1)}$", text)
    text = ROLE.sub(_role, text)
    return LINK.sub(lambda m: f"[{m.group(1).strip()}]({m.group(2)})", text)


class RstDocstrings(griffe.Extension):
    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
