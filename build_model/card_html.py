"""MODEL_CARD.html: the model card as a readable, self-contained page, rendered from MODEL_CARD.md.

The build writes MODEL_CARD.md (card.py) and then this page from that same text, so the two never
disagree. The converter handles exactly the Markdown card.py writes: headings, paragraphs, "-"
lists (with indented continuation lines), "|" tables, "> " notes, images, links, `code` and
**bold**. The page uses the app's stylesheet and the app's Content-Security-Policy, links back
to the app, and works offline like every other file of the site (the service worker precaches
it).

    python -m build_model.card_html [site/model]   # re-render from the MODEL_CARD.md there
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from build_model.atomic import write_text_atomic

CARD_MD = "MODEL_CARD.md"
CARD_HTML = "MODEL_CARD.html"
_INDEX = Path(__file__).resolve().parents[1] / "site" / "index.html"
_CSP = re.compile(r"""<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)">""", re.S)
_INLINE = re.compile(
    r"(?P<code>`[^`]+`)|!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)"
    r"|\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)|\*\*(?P<bold>.+?)\*\*"
)


def inline(text: str) -> str:
    """Escape `text` and render inline code, images, links and bold."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos : m.start()], quote=False))
        if m["code"]:
            out.append(f"<code>{html.escape(m['code'][1:-1], quote=False)}</code>")
        elif m["src"] is not None:
            alt, src = html.escape(m["alt"]), html.escape(m["src"])
            out.append(f'<img src="{src}" alt="{alt}" loading="lazy">')
        elif m["href"] is not None:
            out.append(f'<a href="{html.escape(m["href"])}">{inline(m["text"])}</a>')
        else:
            out.append(f"<strong>{inline(m['bold'])}</strong>")
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _table(rows: list[str]) -> str:
    head, rule, *body = rows
    right = [c.endswith(":") for c in _cells(rule)]

    def row(cells: list[str], tag: str) -> str:
        tds = "".join(
            f"<{tag}{' class=num' if i < len(right) and right[i] else ''}>{inline(c)}</{tag}>"
            for i, c in enumerate(cells)
        )
        return f"<tr>{tds}</tr>"

    body_rows = "\n".join(row(_cells(r), "td") for r in body)
    return (
        f'<div class="table"><table>\n<thead>{row(_cells(head), "th")}</thead>\n'
        f"<tbody>\n{body_rows}\n</tbody></table></div>"
    )


def markdown_to_html(md: str) -> str:
    """The HTML body for card.py's Markdown (block structure first, then inline markup)."""
    blocks: list[str] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif m := re.match(r"(#{1,4}) (.*)", line):
            level = len(m[1])
            blocks.append(f"<h{level}>{inline(m[2])}</h{level}>")
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            blocks.append(_table(rows))
        elif line.startswith("- "):
            items: list[str] = []
            while i < len(lines) and (lines[i].startswith("- ") or lines[i].startswith("  ")):
                if lines[i].startswith("- "):
                    items.append(lines[i][2:])
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            blocks.append("<ul>\n" + "\n".join(f"<li>{inline(t)}</li>" for t in items) + "\n</ul>")
        elif line.startswith(">"):
            quoted = []
            while i < len(lines) and lines[i].startswith(">"):
                quoted.append(lines[i].lstrip("> "))
                i += 1
            blocks.append(f"<blockquote><p>{inline(' '.join(quoted))}</p></blockquote>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"#|\||- |>", lines[i]):
                para.append(lines[i].strip())
                i += 1
            text = inline(" ".join(para))
            tag = "figure" if text.startswith("<img") and text.endswith(">") else "p"
            blocks.append(f"<{tag}>{text}</{tag}>")
    return "\n".join(blocks)


def page_csp(index_html: Path = _INDEX) -> str:
    """The app's Content-Security-Policy (from index.html), so the card is held to the same."""
    m = _CSP.search(index_html.read_text(encoding="utf-8"))
    return " ".join(m[1].split()) if m else "default-src 'self'"


def card_page(md: str) -> str:
    """A complete HTML page for the card's Markdown text."""
    title = next((line[2:] for line in md.splitlines() if line.startswith("# ")), "Model card")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{html.escape(page_csp())}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{html.escape(title)} · MNIST-Draw</title>
<link rel="icon" href="../icons/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="../style.css">
</head>
<body class="card">
<nav><a href="../">← Back to MNIST-Draw</a></nav>
<main>
{markdown_to_html(md)}
</main>
</body>
</html>
"""


def write_card_html(folder: Path) -> Path:
    """Render ``folder``/MODEL_CARD.md into ``folder``/MODEL_CARD.html (atomically)."""
    folder = Path(folder)
    md = (folder / CARD_MD).read_text(encoding="utf-8")
    return write_text_atomic(folder / CARD_HTML, card_page(md))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else _INDEX.parent / "model"
    try:
        path = write_card_html(folder)
    except OSError as exc:
        print(f"card_html: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
