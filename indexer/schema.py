"""The index schema and its analyzers.

Names and identifiers fold case and accents but are not stemmed (`Keller` must
not become `kell`); prose is stemmed as well. Unqualified words search one
combined field, `all`: a parser fanning out over many fields is what makes
Whoosh slow.
"""

from __future__ import annotations

from whoosh import analysis, fields
from whoosh.support.charset import accent_map

FOLD = analysis.RegexTokenizer() | analysis.LowercaseFilter() | analysis.CharsetFilter(
    accent_map)
PROSE = (analysis.RegexTokenizer() | analysis.LowercaseFilter()
         | analysis.CharsetFilter(accent_map)
         | analysis.StopFilter() | analysis.StemFilter())
# Whole lines, folded: the forms a file is asked for by (relative path, its tails, name,
# stem), one per line.
FILE = (analysis.RegexTokenizer(r"[^\n]+") | analysis.LowercaseFilter()
        | analysis.CharsetFilter(accent_map))

# Word pairs of the combined text: a phrase of the `all` field is answered by looking
# up its pairs (one term for two words) instead of checking word positions in every
# candidate document, which in Whoosh costs ~10x a term query. BREAK separates the
# parts of the combined text so no pair spans two fields.
PAIRS = PROSE | analysis.ShingleFilter(size=2, sep=" ")
BREAK = "qqbreakqq"

# Per-field query boosts: a person shown in a photo ranks above one who spoke in its
# session, above one merely mentioned in a transcript.
RELATION_BOOST = {"shown": 3.0, "session": 2.0, "mentioned": 1.0}
WITHHELD = "1"  # the `withheld` field's one term
FACETS = ("event", "session", "person", "kind", "creator", "camera")
# Written into each index generation; an index of another version is rebuilt.
SCHEMA_VERSION = 4  # 4: person ids in the relation fields (person_shown...)


def build_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        all=fields.TEXT(analyzer=PROSE, phrase=False),
        pairs=fields.TEXT(analyzer=PAIRS, phrase=False),
        title=fields.TEXT(analyzer=PROSE, phrase=True),
        description=fields.TEXT(analyzer=PROSE),
        keywords=fields.TEXT(analyzer=FOLD),
        filename=fields.TEXT(analyzer=FOLD),
        filekey=fields.TEXT(analyzer=FILE, phrase=False),
        # Characters as well as positions: where a word falls tells which cue said it.
        transcript=fields.TEXT(analyzer=PROSE, phrase=True, chars=True),
        event_text=fields.TEXT(analyzer=FOLD),
        session_text=fields.TEXT(analyzer=FOLD, phrase=True),
        person_shown=fields.TEXT(analyzer=FOLD, phrase=True),
        person_session=fields.TEXT(analyzer=FOLD, phrase=True),
        person_mentioned=fields.TEXT(analyzer=FOLD, phrase=True),
        credit=fields.TEXT(analyzer=FOLD, phrase=True),
        # The creator's credited name, and their person's name and aliases (by:, creator:).
        creator_text=fields.TEXT(analyzer=FOLD, phrase=True),
        camera_text=fields.TEXT(analyzer=FOLD, phrase=True),
        room=fields.TEXT(analyzer=FOLD, phrase=True),
        taken=fields.DATETIME(sortable=True),
        duration=fields.NUMERIC(float, decimal_places=0),
        # Exact values for filters and facet counts.
        event=fields.KEYWORD(lowercase=False, commas=True),
        session=fields.KEYWORD(lowercase=False, commas=True),
        person=fields.KEYWORD(lowercase=False, commas=True),
        kind=fields.KEYWORD(lowercase=False),
        creator=fields.KEYWORD(lowercase=False, commas=True),
        creator_person=fields.KEYWORD(lowercase=False),  # the creator's person id
        camera=fields.KEYWORD(lowercase=False, commas=True),
        # "1" on items withheld from publication: public searches leave them out.
        withheld=fields.ID(),
        # Unstemmed words of every text field, for "did you mean".
        spell=fields.TEXT(analyzer=FOLD, phrase=False),
        revision=fields.NUMERIC(int, stored=True),
        doc=fields.STORED(),  # the item JSON, its transcript left out
        cues=fields.STORED(),  # the transcript, packed (indexer/cues.py)
    )
