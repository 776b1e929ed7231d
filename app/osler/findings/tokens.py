"""Tokens of free text with exact character offsets, and the normal form words are matched in.

Matching ignores case, plural and -ing/-ed endings and British/American spelling
('Haemoptysis', 'coughing', 'wheezes' -> 'hemoptysi', 'cough', 'wheez'); the same function
normalises the lexicon, so both sides always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Numbers (with decimals) as one token; words (letters/digits, any script); single symbols.
TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)?(?![^\W_])|[^\W_]+|[^\w\s]")
NUMBER_RE = re.compile(r"^\d+(?:[.,]\d+)?$")

# Punctuation that ends a phrase, a negation scope or a clause.
BREAKS = frozenset(".;!?,()[]{}:\"“”")
SENTENCE_BREAKS = frozenset(".;!?")


def wordset(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(words.split())


# Dropped everywhere: articles, possessives, 'of', numbers.
DROP = wordset("the a an his her their my your its our of this that these those some any "
               "one two three")
# Skipped inside a phrase when the lexicon has no entry for them (laterality, severity...).
OPTIONAL = wordset("left right bilateral both mild moderate severe slight slightly very "
                   "occasional occasionally intermittent intermittently constant persistent "
                   "recurrent recurring progressive progressively worsening increasing "
                   "significant marked generalized generalised dull frequent episodic "
                   "episodes bad terrible extreme extremely really quite last")

_BRITISH = {
    "oedema": "edema", "oedematous": "edematous", "oesophagus": "esophagus",
    "oesophageal": "esophageal", "oesophagitis": "esophagitis", "diarrhoea": "diarrhea",
    "dyspnoea": "dyspnea", "dyspnoeic": "dyspneic", "orthopnoea": "orthopnea",
    "tachypnoea": "tachypnea", "tachypnoeic": "tachypneic", "apnoea": "apnea",
    "apnoeic": "apneic", "rhinorrhoea": "rhinorrhea", "amenorrhoea": "amenorrhea",
    "dysmenorrhoea": "dysmenorrhea", "menorrhoea": "menorrhea", "steatorrhoea": "steatorrhea",
    "otorrhoea": "otorrhea", "leucorrhoea": "leukorrhea", "gonorrhoea": "gonorrhea",
    "oligomenorrhoea": "oligomenorrhea", "coeliac": "celiac", "oestrogen": "estrogen",
    "faeces": "feces", "faecal": "fecal", "colour": "color", "coloured": "colored",
    "discolouration": "discoloration", "behaviour": "behavior", "tumour": "tumor",
    "tumours": "tumors", "leucocytosis": "leukocytosis", "leucopenia": "leukopenia",
    "paediatric": "pediatric", "orthopaedic": "orthopedic", "haem": "hem",
    "anaesthesia": "anesthesia", "paraesthesia": "paresthesia", "paraesthesiae": "paresthesia",
    "dysaesthesia": "dysesthesia", "hypoaesthesia": "hypoesthesia", "foetal": "fetal",
    "labour": "labor", "travelled": "traveled", "favour": "favor", "mould": "mold",
    "sulphur": "sulfur", "programme": "program", "litre": "liter", "litres": "liters",
    "centre": "center", "fibre": "fiber", "haemorrhoids": "hemorrhoids", "grey": "gray",
    "ischaemia": "ischemia", "ischaemic": "ischemic", "anaemia": "anemia", "anaemic": "anemic",
}
_IRREGULAR = {"aching": "ache", "achy": "ache", "calve": "calf", "feet": "foot",
              "teeth": "tooth"}  # keys after the plural -s is dropped ('calves' -> 'calve')
_AE = re.compile(r"(?<=[bcdfghklmnprstvz])ae(?=[a-z])")


@dataclass(slots=True)  # not frozen: tens of thousands per note, and frozen init is slow
class Token:
    """One token: its text, [start, end) offsets in the source and its matching form."""

    text: str
    start: int
    end: int
    norm: str  # normal form; "" for dropped words, the symbol itself for punctuation
    word: bool  # a word or number (not punctuation)


@lru_cache(maxsize=65536)
def normalize(word: str) -> str:
    """The matching form of one word ('Haemoptysis' -> 'hemoptysi', 'coughs' -> 'cough')."""
    w = word.lower().replace("’", "'")
    if w in _BRITISH:
        w = _BRITISH[w]
    elif "ae" in w:
        w = _AE.sub("e", w)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ied"):
        w = w[:-3] + "y"
    elif len(w) > 5 and w.endswith("ed") and not w.endswith("eed"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def tokenize(text: str) -> list[Token]:
    """All tokens of `text` in order, with offsets into `text` itself."""
    out = []
    append = out.append
    norm_of = _norm_of
    for m in TOKEN_RE.finditer(text):
        s = m.group()
        start, end = m.span()
        if s[0].isalnum():
            append(Token(s, start, end, norm_of(s), True))
        else:
            append(Token(s, start, end, s, False))
    return out


@lru_cache(maxsize=65536)
def _norm_of(word: str) -> str:
    """Matching form of a word token; '' for numbers and dropped words."""
    if NUMBER_RE.match(word) or word.lower() in DROP:
        return ""
    return normalize(word)


def phrase_key(phrase: str) -> tuple[str, ...]:
    """The normalised word sequence a lexicon phrase is stored under."""
    return tuple(t.norm for t in tokenize(phrase) if t.word and t.norm)
