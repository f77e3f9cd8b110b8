"""LaTeX to MathML, so that formulas render natively in the browser with no script and no network.

Browsers render MathML Core (Chromium since 109, Firefox, Safari). Conversion is done by
``latex2mathml``; this module rewrites the few LaTeX constructs it mishandles before converting,
repairs its output where MathML Core would draw it wrongly (the fix-up pass below), and then checks
the result, so that a typo or an unsupported construct fails the report build with a message naming
the formula instead of showing garbage.

What the fix-up pass repairs, and why:

* ``\\sim``, ``\\pm``, ``\\lceil``, ``\\iff`` … come out as identifiers (``<mi>``): made operators
  (``<mo>``) so that they get operator spacing; ``\\sim`` becomes U+223C, not an ASCII tilde.
* ``\\hat`` and ``\\tilde`` accents are ASCII ``^`` and ``~`` (a tall caret, a wave): made the
  modifier letters U+02C6 and U+02DC; every accent is marked ``accent="true"``.
* ``\\operatorname*{arg\\,min}_x``, ``\\arg\\min_x``, ``\\min_x``, ``\\max``, ``\\sup``, ``\\inf``,
  ``\\lim`` with a subscript come out as ``msub`` (or broken): made ``munder`` / ``munderover``
  around an ``<mo movablelimits="true">``, so a display formula puts the limit underneath and an
  inline one beside, as TeX does.
* ``aligned`` leaves literal ``&``: rewritten to ``align*`` (a two-column ``mtable``).
* ``\\lVert … \\rVert`` stretches wrongly: rewritten to ``\\|``, and ``‖`` is made non-stretchy.
* ``mathvariant`` other than ``normal`` is ignored by MathML Core, so ``\\mathbf``, ``\\mathbb``,
  ``\\mathcal``, ``\\boldsymbol`` … would lose their style: the letters become the Unicode
  mathematical alphanumerics (U+1D400 …) instead.
* A single capital Greek letter is drawn italic by MathML; TeX sets it upright.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import io
import os
import re
import unicodedata
import xml.etree.ElementTree as ET

from latex2mathml.converter import convert

from casestudies.errors import CaseStudyError


class MathError(CaseStudyError):
    """A formula in a report could not be converted; the message names the formula."""


MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_NS = "{" + MATHML_NS + "}"
ET.register_namespace("", MATHML_NS)

# latex2mathml passes unknown commands through as identifiers such as <mi>\foo</mi>.
_UNKNOWN_COMMAND = re.compile(r"<m[io][^>]*>(\\[A-Za-z]+)</m[io]>")

# Operators whose subscript is a limit: under the operator in display, beside it inline.
# (``\operatorname*`` names, ``\arg\min`` and ``\liminf`` are added to these.)
LIMIT_OPERATORS = frozenset({"min", "max", "sup", "inf", "lim", "det", "Pr", "gcd"})

# Symbols that are ordinary (no operator spacing) although Unicode classes them as math symbols.
_ORDINARY_SYMBOLS = frozenset("∞∂∇∅′″")

# Accent marks as latex2mathml writes them → the spacing modifier letters fonts draw as accents.
_ACCENTS = {"^": "\u02c6", "~": "\u02dc", "\u02c6": "\u02c6", "\u02dc": "\u02dc",
            "\u00af": "\u00af", "\u2015": "\u2015", "\u02d9": "\u02d9", "\u00a8": "\u00a8",
            "\u02c7": "\u02c7", "\u2192": "\u2192", "\u02d8": "\u02d8"}

# mathvariant → the word in Unicode character names of the mathematical alphanumerics, and the
# word used by the older letterlike symbols that fill the holes of that block (ℝ, ℬ, ℭ …).
_VARIANTS = {
    "bold": ("BOLD", None),
    "italic": ("ITALIC", None),
    "bold-italic": ("BOLD ITALIC", None),
    "double-struck": ("DOUBLE-STRUCK", "DOUBLE-STRUCK"),
    "script": ("SCRIPT", "SCRIPT"),
    "bold-script": ("BOLD SCRIPT", None),
    "fraktur": ("FRAKTUR", "BLACK-LETTER"),
    "bold-fraktur": ("BOLD FRAKTUR", None),
    "sans-serif": ("SANS-SERIF", None),
    "bold-sans-serif": ("SANS-SERIF BOLD", None),
    "sans-serif-italic": ("SANS-SERIF ITALIC", None),
    "monospace": ("MONOSPACE", None),
}

_SPACES = r"\\[,;:! ]|\\q?quad(?![A-Za-z])|\s"
_OPERATORNAME = re.compile(r"\\operatorname(\*?)\s*\{([^{}]*)\}")


def _operatorname(match: re.Match, starred: dict[str, tuple[str, bool]]) -> str:
    """``\\operatorname*{arg\\,min}`` → ``\\operatorname{argmin}``, remembering how to show it."""
    star, body = match.groups()
    words = [w for w in re.split(_SPACES, body) if w]
    name = "".join(words)
    if not re.fullmatch(r"[A-Za-z]+", name):
        return match.group(0)  # left for the converter, and the guard if it fails
    starred[name] = ("\u00a0".join(words), bool(star))
    return rf"\operatorname{{{name}}}"


def _rewrite_latex(source: str) -> tuple[str, dict[str, tuple[str, bool]]]:
    """Rewrite what latex2mathml mishandles into what it converts well.

    Returns the new source and the operator names it introduced (name → shown text, limits).
    """
    names: dict[str, tuple[str, bool]] = {}
    source = re.sub(r"\\arg\s*\\(min|max)(?![A-Za-z])", r"\\operatorname*{arg\\,\1}", source)
    source = re.sub(r"\\lim(inf|sup)(?![A-Za-z])", r"\\operatorname*{lim\\,\1}", source)
    source = re.sub(r"\\(lVert|rVert)(?![A-Za-z])", r"\\|", source)
    source = re.sub(r"\\(begin|end)\{aligned\}", r"\\\1{align*}", source)
    # latex2mathml drops \mathrm on a single letter (the d of dx would be italic).
    source = re.sub(r"\\mathrm\s*\{\s*([A-Za-z])\s*\}", r"\\text{\1}", source)
    source = _OPERATORNAME.sub(lambda m: _operatorname(m, names), source)
    return source, names


def _math_alphanumeric(char: str, variant: str) -> str | None:
    """``("E", "double-struck")`` → ``"𝔼"``; None when Unicode has no such character."""
    words = _VARIANTS.get(variant)
    if words is None:
        return None
    try:
        name = unicodedata.name(char)
    except ValueError:
        return None
    name = re.sub(r"^(LATIN|GREEK) (CAPITAL|SMALL) LETTER ", r"\2 ", name)
    if not re.fullmatch(r"(CAPITAL|SMALL) \S+|DIGIT \S+", name):
        return None
    style, letterlike = words
    candidates = [f"MATHEMATICAL {style} {name}"]
    if letterlike:
        candidates.append(f"{letterlike} {name}")
    if name == "SMALL H" and variant == "italic":
        candidates.append("PLANCK CONSTANT")
    for candidate in candidates:
        try:
            return unicodedata.lookup(candidate)
        except KeyError:
            continue
    return None


def _local(element: ET.Element) -> str:
    return element.tag.removeprefix(_NS)


def _is_operator_symbol(text: str) -> bool:
    return (len(text) == 1 and text not in _ORDINARY_SYMBOLS
            and unicodedata.category(text) in {"Sm", "Ps", "Pe"})


def _fix_token(element: ET.Element) -> None:
    """Repair one token element (``mi``, ``mn``, ``mo``) in place."""
    tag, text = _local(element), element.text or ""
    variant = element.get("mathvariant")
    if variant and variant != "normal" and tag in {"mi", "mn"} and text:
        mapped = [_math_alphanumeric(c, variant) for c in text]
        if all(mapped):
            element.text = "".join(mapped)
            del element.attrib["mathvariant"]
    elif variant == "normal" and tag != "mi":
        del element.attrib["mathvariant"]  # upright already; MathML Core reads it only on mi
    text = element.text or ""
    if tag == "mi" and text == "~":
        element.tag, element.text = _NS + "mo", "\u223c"
    elif tag == "mi" and _is_operator_symbol(text):
        element.tag = _NS + "mo"
    elif tag == "mo" and text == "~":
        element.text = "\u223c"
    if tag == "mi" and len(text) == 1 and "\u0391" <= text <= "\u03a9" and not variant:
        element.set("mathvariant", "normal")
    if _local(element) == "mo" and element.text == "\u2016" and "stretchy" not in element.attrib:
        element.set("stretchy", "false")


def _fix_accent(element: ET.Element) -> None:
    """``mover`` whose over-script is an accent mark: the right glyph, and ``accent="true"``."""
    children = list(element)
    if len(children) != 2 or _local(children[1]) != "mo":
        return
    mark = children[1].text or ""
    if mark in _ACCENTS:
        children[1].text = _ACCENTS[mark]
        element.set("accent", "true")
        if mark in {"^", "~"}:
            children[1].set("stretchy", "false")


def _fix_limits(element: ET.Element, names: dict[str, tuple[str, bool]]) -> None:
    """``msub``/``msubsup`` on a limit operator → ``munder``/``munderover``, movable limits."""
    base = element[0] if len(element) else None
    if base is None or _local(base) != "mo":
        return
    shown, limits = names.get(base.text or "", (base.text or "", False))
    if not (limits or shown in LIMIT_OPERATORS):
        return
    base.set("movablelimits", "true")
    element.tag = _NS + ("munder" if _local(element) == "msub" else "munderover")


def _fix_tree(root: ET.Element, names: dict[str, tuple[str, bool]]) -> None:
    for element in root.iter():
        tag = _local(element)
        if tag in {"mi", "mn", "mo"}:
            _fix_token(element)
        elif tag == "mover":
            _fix_accent(element)
    for element in list(root.iter()):
        if _local(element) in {"msub", "msubsup"}:
            _fix_limits(element, names)
    for element in root.iter(_NS + "mo"):
        if element.text in names:
            element.text = names[element.text][0]


_SUSPICIOUS_IDENTIFIER = re.compile(r"[&^~*_{}\\]")


def _guard(root: ET.Element, source: str) -> None:
    """Raise on what would still render wrongly after the fix-up pass."""
    for element in root.iter():
        tag, text = _local(element), element.text or ""
        if tag == "mo" and not text.strip():
            raise MathError(f"unsupported LaTeX in formula ${source}$: it converts to an empty "
                            f"operator (a \\operatorname with markup inside?)")
        if tag in {"mi", "mo", "mn"} and text.startswith("\\"):
            raise MathError(f"unknown LaTeX command {text} in formula ${source}$")
        if tag == "mi" and _SUSPICIOUS_IDENTIFIER.search(text):
            raise MathError(f"unsupported LaTeX in formula ${source}$: {text!r} would show "
                            f"literally (use align* for alignment, \\sim for ~)")
        variant = element.get("mathvariant")
        if variant and not (variant == "normal" and tag == "mi"):
            raise MathError(f"unsupported style {variant} in formula ${source}$: browsers ignore "
                            f"mathvariant; use letters and digits that have a Unicode "
                            f"mathematical {variant} form")


def latex_to_mathml(latex: str, display: bool = False) -> str:
    """Convert one LaTeX formula to a ``<math>`` element.

    Parameters
    ----------
    latex : str
        The formula without its ``$`` delimiters.
    display : bool, default False
        Block (``display="block"``) rather than inline layout.

    Returns
    -------
    str
        MathML markup after the fix-up pass (see the module docstring); the LaTeX source is kept
        in the ``alttext`` attribute for screen readers.

    Raises
    ------
    MathError
        The formula is empty, unbalanced, uses a command the converter does not know, or
        converts to something that would render wrongly (an empty operator, a literal ``&``, a
        style browsers ignore).
    """
    source = latex.strip()
    if not source:
        raise MathError("empty formula in report prose")
    rewritten, names = _rewrite_latex(source)
    try:
        mathml = convert(rewritten, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml signals syntax errors with many exception types
        raise MathError(
            f"invalid LaTeX in formula ${source}$: {type(exc).__name__} {exc}".strip()
        ) from exc
    unknown = _UNKNOWN_COMMAND.search(mathml)
    if unknown:
        raise MathError(f"unknown LaTeX command {unknown.group(1)} in formula ${source}$")
    # latex2mathml writes a bare "&" (from an alignment outside align*): escape it to parse.
    mathml = re.sub(r"&(?!#x?[0-9A-Fa-f]+;|[A-Za-z]+;)", "&amp;", mathml)
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError as exc:
        raise MathError(f"unsupported LaTeX in formula ${source}$: the converter wrote "
                        f"malformed MathML ({exc})") from exc
    _fix_tree(root, names)
    _guard(root, source)
    mathml = ET.tostring(root, encoding="unicode")
    return mathml.replace("<math ", f'<math alttext="{html.escape(source)}" ', 1)


# --- The embedded math font ----------------------------------------------------------------------
# Chromium lays MathML out well only with an OpenType MATH font named in CSS, and a reader's
# machine may have none, so every report carries a subset of STIX Two Math (SIL Open Font
# Licence 1.1; the licence text travels in the font's name table, which the subset keeps).

MATH_FONT_FAMILY = "Report Math"
# Characters kept in every subset whatever the formulas use: the bases of stretchy operators and
# fences (their size variants and assembly parts come with them through the MATH table).
STRETCHY_BASES = "()[]{}|‖√∑∏∫/−+=⌈⌉⌊⌋⟨⟩"
_MATH_ELEMENT = re.compile(r"<math\b.*?</math>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def math_font_path() -> str:
    """Where the installed ``ziamath`` package keeps ``STIXTwoMath-Regular.ttf``."""
    spec = importlib.util.find_spec("ziamath")
    if spec is None or not spec.submodule_search_locations:
        raise MathError("the math font comes with the ziamath package; install it "
                        "(pip install ziamath)")
    folder = next(iter(spec.submodule_search_locations))
    return os.path.join(folder, "fonts", "STIXTwoMath-Regular.ttf")


def math_characters(page: str) -> str:
    """The characters inside the ``<math>`` elements of an HTML page, sorted, without spaces."""
    characters: set[str] = set()
    for element in _MATH_ELEMENT.findall(page):
        start = element.index(">") + 1  # skip the alttext, which is LaTeX source, not shown
        characters.update(html.unescape(_TAG.sub("", element[start:])))
    return "".join(sorted(c for c in characters if not c.isspace()))


def _subset_woff2(characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]      # ssty (script-size glyphs), variants, kerning
    options.name_IDs = ["*"]             # copyright, licence (OFL) and licence URL included
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    options.glyph_names = False
    options.flavor = "woff2"
    font = TTFont(math_font_path(), recalcTimestamp=False, lazy=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters + STRETCHY_BASES])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff2"
    font.save(buffer, reorderTables=True)
    return buffer.getvalue()


_SUBSETS: dict[str, bytes] = {}


def math_font_subset(characters: str) -> bytes:
    """A WOFF2 subset of STIX Two Math holding ``characters`` and the stretchy bases.

    The same characters give the same bytes on every build (the font's timestamps are kept as
    shipped). Subsets are cached for the life of the process, as one takes about a second.

    Parameters
    ----------
    characters : str
        What the formulas show (see :func:`math_characters`); order and repeats do not matter.

    Returns
    -------
    bytes
        The font file, WOFF2, with its MATH table, layout features and name records.
    """
    key = "".join(sorted(set(characters)))
    if key not in _SUBSETS:
        _SUBSETS[key] = _subset_woff2(key)
    return _SUBSETS[key]


def math_font_css(page: str) -> str:
    """The ``@font-face`` rule embedding the math font subset for the formulas of ``page``.

    Empty when the page has no formula. The family is :data:`MATH_FONT_FAMILY`, which the report
    style sheet puts first in the ``math`` font stack.
    """
    characters = math_characters(page)
    if not characters:
        return ""
    data = base64.b64encode(math_font_subset(characters)).decode("ascii")
    return (f'@font-face {{ font-family: "{MATH_FONT_FAMILY}"; font-style: normal; '
            f"font-weight: 400; font-display: block; "
            f'src: url("data:font/woff2;base64,{data}") format("woff2"); }}')
