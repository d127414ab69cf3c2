"""Abstract text made readable: LaTeX, HTML and Markdown to plain text, sentences, and cuts that
end on a word or a whole clause. Shared by the offline and LLM summarizers and the digest's editorial.
"""

from __future__ import annotations

import re
import unicodedata

# Longer than this, an abstract is a paste accident; the prompt and the splitter read this much.
MAX_ABSTRACT_CHARS = 6000
MAX_TITLE_CHARS = 400

_LATEX_SYMBOLS = {
    "times": "×",
    "sim": "~",
    "approx": "≈",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "pm": "±",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "infty": "∞",
    "cdot": "·",
    "ldots": "…",
    "dots": "…",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "omega": "ω",
    "Delta": "Δ",
    "Omega": "Ω",
    "%": "%",
    "&": "&",
    "_": "_",
    "#": "#",
    "$": "$",
}
_LATEX_DROP_WITH_ARG = re.compile(r"\\(?:cite[pt]?|ref|label|footnote)\*?\{[^{}]*\}")
_LATEX_KEEP_ARG = re.compile(r"\\[A-Za-z]+\*?\{([^{}]*)\}")  # \textbf{x}, \mathcal{X}, \url{x} -> x
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+|[%&_#$])")
_LATEX_OLD_STYLE = re.compile(r"\{\\(?:em|bf|it|sc|tt)\s+([^{}]*)\}")
_MATH = re.compile(r"\$\$?([^$]{1,300}?)\$\$?")
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\{([^{}]*)\}")
_SCRIPT = re.compile(r"([\^_])\{([^{}]*)\}")
_HTML_TAG = re.compile(r"</?(?:b|i|em|strong|sub|sup|p|br|a|span|div|u|tt|code)(?:\s[^<>]*)?/?>", re.I)
_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(\S(?:.*?\S)?)\1")


def _latex_command(match: re.Match[str]) -> str:
    name = match.group(1)
    return _LATEX_SYMBOLS.get(name, "" if len(name) == 1 else name)


_SPACED_OPERATORS = frozenset("×≈≤≥≠±→←·")


def _math_command(match: re.Match[str]) -> str:
    symbol = _latex_command(match)
    return f" {symbol} " if symbol in _SPACED_OPERATORS else symbol


def _clean_math(match: re.Match[str]) -> str:
    body = match.group(1)
    body = _FRAC.sub(r"(\1)/(\2)", body)
    body = _SQRT.sub(r"√(\1)", body)
    for _ in range(3):  # nested \frac{\mathbf{x}}{2}: peel a level at a time
        body = _SCRIPT.sub(r"\1\2", body)
        body = _LATEX_KEEP_ARG.sub(r"\1", body)
    body = _LATEX_COMMAND.sub(_math_command, body)
    body = body.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", body).strip()
    # "$\sim$ 3x" and "$\times$ faster" read better glued: "~3x", "× faster".


# Accents: Nystr\"om, Erd\H{o}s, \c{c}, {\'e}: the letter with its combining mark, then composed.
_COMBINING = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
}
_ACCENT = re.compile(r"""\{?\\(["'`^~=.])\s*\{?([A-Za-z])\}?\}?""")
_ACCENT_LETTER_COMMAND = re.compile(r"\{?\\([cvuHk])(?:\{([A-Za-z])\}|\s+([A-Za-z]))\}?")
_DOTLESS_I = re.compile(r"\{?\\i\}?(?![A-Za-z])\s?")
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ae": "æ", "AE": "Æ", "oe": "œ", "aa": "å"}
_LETTER_COMMAND = re.compile(r"\{?\\(ss|o|O|l|L|ae|AE|oe|aa)\}?(?![A-Za-z])")
# What is left of a backslash after the rest (an escaped "\<", a stray "\\"): never shown to a reader.
_STRAY_BACKSLASH = re.compile(r"\\+(?=[^A-Za-z]|$)")


def _accent(mark: str, letter: str) -> str:
    return unicodedata.normalize("NFC", letter + _COMBINING[mark])


def _accents(text: str) -> str:
    if "\\" not in text:
        return text
    text = _DOTLESS_I.sub("i", text)
    text = _ACCENT.sub(lambda m: _accent(m.group(1), m.group(2)), text)
    text = _ACCENT_LETTER_COMMAND.sub(lambda m: _accent(m.group(1), m.group(2) or m.group(3)), text)
    return _LETTER_COMMAND.sub(lambda m: _LETTERS[m.group(1)], text)


def clean_text(text: str) -> str:
    """Plain, single-spaced text: LaTeX math and commands, HTML tags and Markdown emphasis removed."""
    text = text[:MAX_ABSTRACT_CHARS]
    text = _HTML_TAG.sub("", text)
    text = _accents(text)
    text = _LATEX_DROP_WITH_ARG.sub("", text)
    text = _LATEX_OLD_STYLE.sub(r"\1", text)
    text = text.replace(r"\$", "\0DOLLAR\0")
    text = _MATH.sub(_clean_math, text)
    for _ in range(3):
        text = _LATEX_KEEP_ARG.sub(r"\1", text)
    text = _LATEX_COMMAND.sub(_latex_command, text)
    text = _STRAY_BACKSLASH.sub("", text)
    text = text.replace("\0DOLLAR\0", "$").replace("{", "").replace("}", "")
    text = _MARKDOWN_EMPHASIS.sub(r"\2", text)
    # LaTeX's non-breaking space between words ("approach,~method", "Fig.~3") is just a space.
    text = re.sub(r"(?<=[\w,.;:)])~(?=[A-Za-z])", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"~\s+(?=\d)", "~", text)
    text = re.sub(r"(?<=\d) ×(?= )", "×", text)  # "3.2 × faster" reads "3.2× faster"
    return re.sub(r"\s+([,.;:!?%)])", r"\1", text)


# --------------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------------

# Tokens that end in a period without ending a sentence (lower-cased, leading brackets removed).
_ABBREVIATIONS = frozenset(
    [
        "e.g.",
        "i.e.",
        "al.",
        "vs.",
        "v.",
        "cf.",
        "fig.",
        "figs.",
        "eq.",
        "eqs.",
        "sec.",
        "secs.",
        "no.",
        "nos.",
        "approx.",
        "resp.",
        "viz.",
        "ca.",
        "ref.",
        "refs.",
        "tab.",
        "vol.",
        "pp.",
        "dr.",
        "mr.",
        "ms.",
        "prof.",
        "st.",
        "jr.",
        "inc.",
        "ltd.",
        "corp.",
        "u.s.",
        "u.k.",
        "w.r.t.",
        "a.k.a.",
        "incl.",
        "est.",
        "max.",
        "min.",
        "avg.",
        "e.g.,",
    ]
)
_BOUNDARY = re.compile(r"""[.!?]["')\]]*\s+(?=["'(\[]?[A-Z0-9$\\\u00C0-\u024F])""")


def split_sentences(text: str) -> list[str]:
    """Sentences of a plain-text abstract, keeping "e.g.", "et al.", initials and 3.5 intact."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start() + 1]
        last_token = before.rsplit(None, 1)[-1].lstrip("([\"'").lower() if before.strip() else ""
        if last_token in _ABBREVIATIONS:
            continue
        # A lone capital ("J. Smith", "Figure A. shows") is an initial, not a sentence end.
        if re.fullmatch(r"[a-z]\.", last_token) and before.rstrip()[-2:-1].isupper():
            continue
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def truncate(text: str, limit: int) -> str:
    """`text` cut on a word boundary to at most `limit` characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:  # don't leave half a word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—(") + "…"


# Where a long sentence can stop and still read as a whole: before ", …", "; …", " (…", " -- …",
# " which …". Cutting there drops a trailing clause instead of half of one.
_CLAUSE_BREAK = re.compile(r"[,;:](?=\s)|\s(?=\(|--|–|—|(?:which|while|whereas|where|thereby)\b)")


# "To predict X, this paper builds…": the first comma ends a lead-in; the main clause comes after it.
_LEAD_IN = re.compile(
    r"^(?:in order to|to|while|although|though|as|with|by|despite|given|when|if|since|because|unlike|"
    r"building on|based on|inspired by|motivated by|leveraging|using|through|for|in|on|under)\b",
    re.IGNORECASE,
)


def shorten(text: str, limit: int) -> str:
    """`text` within `limit`, cut after its last whole clause when that keeps most of it."""
    if len(text) <= limit:
        return text
    window = text[: limit - 1]
    start = 0.6 * limit
    if _LEAD_IN.match(text) and "," in window:  # never keep the lead-in without its main clause
        start = max(start, window.index(",") + 1)
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(window) if m.start() >= start]
    if breaks:
        return window[: breaks[-1]].rstrip(" ,;:-–—(") + "…"
    return truncate(text, limit)


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
