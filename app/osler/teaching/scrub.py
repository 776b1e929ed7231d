"""Free-text scrubbing: known identifiers of the record, identifier-shaped strings, dates, ages.

Known strings (names and their parts, address parts, phone numbers, e-mails, identifier
values, organisation and place names) come from the structured record and are matched
case-insensitively as whole words; Synthea-style digit suffixes ("Sumiko254") are matched
with or without the digits. Pattern classes catch what the record does not list (phone
numbers, e-mails, URLs, IP addresses, SSNs, MRN-like numbers, titled names). Each hit is
replaced by a tag such as [NAME]; dates are shifted by the patient's offset.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from osler.teaching.dateshift import DateShift

NAME, ADDRESS, PHONE, EMAIL, URL, ID, ORGANIZATION, LOCATION, CONTACT, IP = (
    "[NAME]",
    "[ADDRESS]",
    "[PHONE]",
    "[EMAIL]",
    "[URL]",
    "[ID]",
    "[ORGANIZATION]",
    "[LOCATION]",
    "[CONTACT]",
    "[IP]",
)
AGE_90_PLUS = "90+"

# Titles and suffixes that are not names themselves.
NAME_AFFIXES = frozenset(
    (
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sr", "jr", "ii", "iii", "iv", "md", "do",
        "phd", "rn", "np", "pa", "dds", "esq", "rev", "sir", "dame", "lady", "lord", "mister",
        "madam",
    )
)

# Names that are also ordinary words: an all-lowercase occurrence in text is the word,
# not the name ("nonhispanic white female", "left hand"). Capitalised ones are scrubbed.
COMMON_WORDS = frozenset(
    (
        "white", "black", "brown", "green", "gray", "grey", "young", "old", "long", "short",
        "little", "small", "large", "king", "rich", "poor", "wise", "hope", "faith", "joy", "grace",
        "love", "may", "june", "april", "august", "will", "bill", "mark", "grant", "rose", "lily",
        "iris", "violet", "heather", "holly", "ivy", "daisy", "dawn", "summer", "winter", "autumn",
        "spring", "hall", "wood", "woods", "stone", "hill", "hills", "field", "fields", "lane",
        "street", "river", "lake", "ford", "bank", "banks", "bell", "bush", "house", "land",
        "marsh", "moss", "park", "price", "rice", "sharp", "bond", "cook", "cooke", "baker",
        "miller", "hunter", "fisher", "carter", "mason", "porter", "turner", "walker", "wells",
        "best", "hand", "head", "foot", "back", "heart", "gay", "well", "early", "late", "day",
        "night", "lord", "page", "chase", "case", "care", "cole", "dean", "english", "french",
        "frank", "free", "gold", "keen", "lamb", "low", "major", "moody", "nurse", "parsons",
        "patience", "person", "sick", "swift", "temple", "trust", "waters", "ward", "west", "north",
        "south", "east", "root", "roots", "sage", "salt", "pepper", "sugar", "can", "ill", "pain",
        "cross", "lowe", "hart", "moon", "star", "sun", "rain", "snow", "storm", "wolf", "fox",
        "bird", "crane", "bear", "nash", "cash", "key", "keys", "kind", "lucky", "noble", "power",
        "strong", "wing", "independence", "liberty", "liberal", "mission", "protection", "home",
        "energy", "union",
    )
)

# Standard-terminology hosts whose URLs are not identifiers (namespaces, code systems).
STANDARD_URL_HOSTS = (
    "hl7.org", "www.hl7.org", "terminology.hl7.org", "www.w3.org", "w3.org", "loinc.org",
    "snomed.info", "unitsofmeasure.org", "www.nlm.nih.gov", "nucc.org", "www.cdc.gov",
    "fhir.org",
)


UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def name_stem(part: str) -> str:
    """A name part without Synthea's digit suffix: "Sumiko254" -> "sumiko"."""
    return part.rstrip("0123456789").strip(".,;:").lower()


def is_name_use(word: str) -> bool:
    """Whether a word that spells a known name part is used as the name.

    Lowercase common words ("white", "hand") are the words; names of three letters or
    fewer count only capitalised ("Ed", not the "ED" of emergency department).
    """
    letters = word.rstrip("0123456789")
    stem = letters.lower()
    if word.islower() and stem in COMMON_WORDS:
        return False
    return len(stem) > 3 or letters == letters.capitalize()


@dataclass
class KnownStrings:
    """Identifying strings found in the structured record, with the tag that replaces them."""

    phrases: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)

    def add(self, tag: str, text: object) -> None:
        """A phrase to scrub wherever it appears (an address line, a phone number, an id)."""
        if not isinstance(text, str):
            return
        norm = _norm(text).strip(" ,;:")
        if UUID.fullmatch(norm.removeprefix("urn:uuid:")):
            return  # every UUID in free text is replaced anyway (pattern class "uuid")
        digits = sum(c.isdigit() for c in norm)
        if len(norm) < 3 or (digits == len(norm.replace("-", "")) and digits < 4):
            return  # "300" or "MA": too short to scrub safely everywhere
        for variant in {norm, html.escape(norm, quote=True), norm.replace("'", "&apos;")}:
            self.phrases.setdefault(variant, tag)
        if tag == PHONE and digits >= 7:
            self.phrases.setdefault("".join(c for c in norm if c.isdigit()), tag)

    def add_name(self, text: object) -> None:
        """A person's name or name part: the whole and each part (with or without digits)."""
        if not isinstance(text, str) or not text.strip():
            return
        parts = [p for p in re.split(r"[\s,]+", text) if p]
        stems = [name_stem(p) for p in parts]
        kept = [
            s
            for s in stems
            if len(s) >= 2 and s not in NAME_AFFIXES and not s.replace(".", "").isdigit()
        ]
        if len(kept) > 1:
            self.add(NAME, " ".join(p for p, s in zip(parts, stems) if s in kept))
        for stem in kept:
            for piece in {stem, *stem.split("-")}:
                if len(piece) >= 2 and piece not in NAME_AFFIXES:
                    self.names.add(piece)
                    escaped = html.escape(piece, quote=True)
                    if escaped != piece:
                        self.names.update({escaped, piece.replace("'", "&apos;")})

    def add_address(self, address: object) -> None:
        """Street lines, city, district and postal code of a FHIR Address (not state/country)."""
        if not isinstance(address, dict):
            return
        lines = address.get("line")
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, str):
                self.add(ADDRESS, line)
                street = re.sub(r"^\s*\d+[A-Za-z]?\s+", "", line)
                if street != line and len(street) >= 6:
                    self.add(ADDRESS, street)
        for key in ("city", "district", "text"):
            self.add(ADDRESS, address.get(key))
        postal = address.get("postalCode")
        if isinstance(postal, str):
            compact = postal.replace(" ", "").replace("-", "")
            self.add(ADDRESS, postal)
            if compact.isdigit() and len(compact) == 9:  # ZIP+4 written without the dash
                self.add(ADDRESS, compact[:5])
                self.add(ADDRESS, f"{compact[:5]}-{compact[5:]}")
                self.add(ADDRESS, compact)
            elif compact.isdigit() and len(compact) == 5:
                self.add(ADDRESS, compact)


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation for many literal strings, factored by common prefix (fast)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        alts = [
            (r"\s+" if ch == " " else re.escape(ch)) + build(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


_TITLE = r"(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof)"
_CAPWORD = r"[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?"

_LABELS = (
    r"MRN|MR\s?\#|medical\s+record(?:\s+(?:number|no\.?))?|acct\.?"
    r"|account(?:\s+(?:number|no\.?))?|member\s+id|policy(?:\s+(?:number|no\.?))?|SSN"
    r"|social\s+security(?:\s+(?:number|no\.?))?|NHS\s+(?:number|no\.?)|patient\s+id"
    r"|chart(?:\s+(?:number|no\.?))?|licen[cs]e(?:\s+(?:number|no\.?))?"
    r"|passport(?:\s+(?:number|no\.?))?|serial(?:\s+(?:number|no\.?))?"
)
_LABEL_WORDS = ("mrn", "mr", "record", "acct", "account", "member", "policy", "ssn",
                "social", "nhs", "patient id", "chart", "licen", "passport", "serial")

# Pattern classes, applied in this order; each has a cheap gate (a substring the text must
# hold) so that short strings and long notes skip the ones that cannot match.
CLASSES: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, gate, re.compile(pattern))
    for kind, gate, pattern in (
        ("uuid", ("-",), r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                         r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])"),
        ("email", ("@",), r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
        ("url", ("://", "www."), r"(?:https?|ftp)://[^\s<>\"')\]]+"
                                 r"|(?<![\w.@])www\.[\w-]+(?:\.[\w-]+)+[^\s<>\"')\]]*"),
        ("ipv4", (".",), r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)"),
        ("ipv6", ("::", ":"), r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
                              r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}"
                              r"[0-9A-Fa-f]{1,4})(?![\w:])"),
        ("ssn", ("-",), r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])"),
        ("phone", ("-", ".", "(", "+"),
         r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?\d{3}[\s.-]?\d{4}"
         r"|\d{3}(?P<phone_sep>[.-])\d{3}(?P=phone_sep)\d{4})(?!\w)"
         r"|(?<![\w+])\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?!\w)"),
        ("labelled", (), rf"(?i:\b(?:{_LABELS})(?!\w)\s*[:\#]?\s*)"
                         r"(?P<labelled_value>[A-Za-z0-9][A-Za-z0-9-]{3,})"),
        ("longnum", (), r"(?<![\w.,])\d{7,}(?!\w|[.,]\d)"),
        ("alnum", (), r"(?<![\w-])(?=(?:[A-Za-z-]*\d){4})(?=[\d-]*[A-Za-z])"
                      r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])"),
        ("titled", ("Dr", "Mr", "Ms", "Mx", "Miss", "Prof"),
         rf"(?<!\w)(?P<title>{_TITLE})(?P<title_dot>\.?\s+)"
         rf"(?P<title_name>{_CAPWORD}(?:\s+{_CAPWORD})?)(?!\w)"),
        ("age", ("old", "yo", "y/o", "OLD", "YO", "Y/O"),
         r"(?<![\w.])(?P<age_n>\d{1,3})(?P<age_sep>\s*-?\s*)"
         r"(?=(?:years?|yrs?)[\s-]*old\b|y/o\b|yo\b)"),
        ("aged", ("age", "Age", "AGE"),
         r"\b(?P<aged_word>(?i:aged?|age:))(?P<aged_sep>\s+)(?P<aged_n>\d{1,3})(?!\w|\.\d)"),
    )
)
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}$|^\d[\d.,]*[A-Za-z/%µ]+$")
_CACHE_MAX_LEN = 256
_CACHE_MAX_ITEMS = 200_000


class TextScrubber:
    """Replaces identifiers in free text with tags and shifts the dates written in it."""

    def __init__(self, known: KnownStrings):
        self._phrases = dict(known.phrases)
        self._names = frozenset(known.names)
        self._phrase_re = (
            re.compile(rf"(?<!\w)(?:{_trie_pattern(self._phrases)})(?!\w)", re.IGNORECASE)
            if self._phrases
            else None
        )
        self._name_re = (
            re.compile(rf"(?<![\w&])(?:{_trie_pattern(known.names)})\d*(?!\w)", re.IGNORECASE)
            if known.names
            else None
        )
        self._cache: dict[tuple[str, int, bool, int, bool],
                          tuple[str, tuple[tuple[str, int], ...]]] = {}

    def scrub(self, text: str, shift: DateShift, counts: Counter[str],
              patterns: bool = True, age_shift: int = 0, dates: bool = True) -> str:
        """The text with known identifiers, identifier-shaped strings and dates replaced.

        `patterns=False` is for terminology text (a Coding's display): only the record's
        own identifiers and dates are replaced, so drug names such as "NDA020800" survive.
        `age_shift` years are taken off ages written as "N year-old" / "aged N" (for a
        patient whose birth date was moved by the over-89 grouping); 90 and over read "90+".
        `dates=False` leaves dates alone (code fields such as a code system's version).
        """
        if not text:
            return text
        key = (text, shift.days, patterns, age_shift, dates)
        cached = self._cache.get(key)
        if cached is not None:
            for k, n in cached[1]:
                counts[k] += n
            return cached[0]
        local: Counter[str] = Counter()
        out = self._scrub(text, shift, local, patterns, age_shift, dates)
        counts.update(local)
        if len(text) <= _CACHE_MAX_LEN:
            if len(self._cache) >= _CACHE_MAX_ITEMS:
                self._cache.clear()
            self._cache[key] = (out, tuple(local.items()))
        return out

    def _scrub(self, text: str, shift: DateShift, counts: Counter[str], patterns: bool,
               age_shift: int, dates: bool) -> str:
        if self._phrase_re is not None:

            def phrase(m: re.Match[str]) -> str:
                tag = self._phrases.get(_norm(m.group(0)), NAME)
                counts[tag] += 1
                return tag

            text = self._phrase_re.sub(phrase, text)
        if self._name_re is not None:

            def name(m: re.Match[str]) -> str:
                word = m.group(0)
                if not is_name_use(word):
                    return word
                counts[NAME] += 1
                return NAME

            text = self._name_re.sub(name, text)
        if not dates:
            return text
        text, shifted, removed = shift.shift_text(text)
        if shifted:
            counts["dates shifted in text"] += shifted
        if removed:
            counts["dates removed from text"] += removed
        if not patterns:
            return text
        return _apply_classes(text, counts, age_shift)


def _apply_classes(text: str, counts: Counter[str], age_shift: int) -> str:
    """Run the pattern classes whose gate the text passes."""
    lower: str | None = None
    for kind, gate, rx in CLASSES:
        if kind == "labelled":
            lower = lower if lower is not None else text.lower()
            if not any(w in lower for w in _LABEL_WORDS):
                continue
        elif gate and not any(g in text for g in gate):
            continue
        text = rx.sub(lambda m, kind=kind: _class_hit(kind, m, counts, age_shift), text)
    return text


def _class_hit(kind: str, m: re.Match[str], counts: Counter[str], age_shift: int) -> str:
    g = m.groupdict()
    text = m.group(0)
    if kind == "email":
        tag = EMAIL
    elif kind == "url":
        host = re.sub(r"^(?:https?|ftp)://", "", text).split("/")[0].split(":")[0].lower()
        if host in STANDARD_URL_HOSTS:
            return text
        core = text.rstrip(".,;:!?")
        counts[URL] += 1
        return URL + text[len(core):]
    elif kind == "ipv4":
        if not all(int(p) <= 255 for p in text.split(".")):
            return text
        tag = IP
    elif kind == "ipv6":
        tag = IP
    elif kind == "phone":
        if sum(c.isdigit() for c in text) < 7:
            return text
        tag = PHONE
    elif kind == "labelled":
        value = g["labelled_value"]
        if not any(c.isdigit() for c in value):
            return text
        counts[ID] += 1
        return text[: m.start("labelled_value") - m.start(0)] + ID
    elif kind == "alnum":
        if len(text) < 6 or _DATE_LIKE.match(text):
            return text
        tag = ID
    elif kind == "titled":
        counts[NAME] += 1
        return g["title"] + g["title_dot"] + NAME
    elif kind == "age":
        age = _grouped_age(int(g["age_n"]), age_shift, counts)
        if age == g["age_n"]:
            return text
        return age + (" " if "-" in g["age_sep"] and age == AGE_90_PLUS else g["age_sep"])
    elif kind == "aged":
        age = _grouped_age(int(g["aged_n"]), age_shift, counts)
        return g["aged_word"] + g["aged_sep"] + age
    else:  # uuid, ssn, longnum
        tag = ID
    counts[tag] += 1
    return tag


def _grouped_age(age: int, age_shift: int, counts: Counter[str]) -> str:
    """An age written in text after grouping: shifted for a grouped patient, 90+ if over 89."""
    new = max(age - age_shift, 0)
    if new > 89:
        counts["ages over 89 grouped in text"] += 1
        return AGE_90_PLUS
    if new != age:
        counts["ages in text adjusted to the grouped birth date"] += 1
    return str(new)
