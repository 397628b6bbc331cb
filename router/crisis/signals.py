"""What the detector reads of one routed mention: when it was written, whether it counts, its scopes, its terms."""

import re
from typing import NamedTuple

from router.crisis.settings import CrisisSettings
from router.mentions.model import Mention
from router.rules.orgmodels.dandelion import account_key
from router.rules.words import fold, words_of

# \w+ after a literal: no nested quantifier, linear in the text whatever it holds.
_HASHTAG = re.compile(r"#(\w+)")
_NOT_WORDS = ("@", "#", "http://", "https://", "www.")
MIN_TERM_LETTERS = 5
MAX_TERMS = 4  # significant words per mention: its longest ones
MAX_TOPICS = 6  # topic scopes per mention, hashtags first
# Frequent words long enough to pass MIN_TERM_LETTERS that say nothing of a topic, in English and French.
STOPWORDS = frozenset("""
about above after again against always anyone anything anywhere because before being below between could didnt
doesnt during every everyone everything nobody nothing people someone something
first found going great having hello might never other others really right should since still thank thanks their
there these thing things think those three through today under until where which while would yours please
absolument alors apres aucun aujourd aussi autre autres avaient avais avait avant avoir avons beaucoup bonjour
cette chose comme comment depuis devant elles encore enfin entre etaient etait etions faire leurs mauvais merci notre
vraiment
nous parce pendant personne plusieurs pourquoi quand quelque rien sans sommes toujours tous toute toutes votre
""".split())


class Signal(NamedTuple):
    """One routed mention as the detector sees it; small, so that it crosses between processes cheaply."""

    mention_id: str
    at: int  # created_at, Unix seconds: the detector's event time
    counted: bool  # a counted label (complaints, crises) or an escalation by the rules
    influential: bool  # counted, and from an author the influencer rule names
    scopes: tuple[str, ...]  # scope keys in the config's order: brand:…, unit:…, topic:…
    terms: tuple[str, ...]  # hashtags and significant words, for an incident's top terms
    unit: str | None  # the business unit, where the organisation model delivers the incident record


def signal_of(mention: Mention, label: str, crisis: bool, unit: str | None, settings: CrisisSettings,
              words_of_uncounted: bool = True) -> Signal:
    """The signal of a mention routed with `label`; `crisis` is the rules' escalation, `unit` its business unit.

    Without `words_of_uncounted`, a mention that does not count has no significant words: they would only say
    whether it belongs to an incident of one of them, and the detector says none is open.
    """
    counted = crisis or label in settings.labels
    author, influencers = mention.author, settings.influencers
    influential = (counted and author is not None and influencers is not None
                   and influencers.include(author.verified, author.followers))
    # Words cost the most: read only when they count, or when they are scopes of their own.
    hashtags, words = terms_of(mention.text, counted or (settings.terms and words_of_uncounted))
    scopes: list[str] = []
    topics: list[str] = []
    for rule in settings.scopes:
        if rule.kind == "brand" and mention.account:
            key = (mention.source, account_key(mention.account))
            scopes.append("brand:" + settings.brands.get(key, f"{key[0]}/{key[1]}"))
        elif rule.kind == "unit" and unit:
            scopes.append("unit:" + unit)
        elif rule.kind == "topic":
            topics = [*(hashtags if rule.hashtags else ()), *(words if rule.terms else ())][:MAX_TOPICS]
            scopes += ["topic:" + topic for topic in topics]
    return Signal(mention.id, int(mention.created_at.timestamp()), counted, influential, tuple(scopes),
                  (*hashtags, *words), unit)


def terms_of(text: str, words: bool = True) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text's hashtags (`#name`, folded) and (with `words`) its longest significant words, without repeats."""
    tags = _HASHTAG.findall(text) if "#" in text else ()
    hashtags = tuple(dict.fromkeys("#" + tag for tag in map(fold, tags) if len(tag) > 1))
    if not words:
        return hashtags, ()
    # An account or a link names no topic, and a hashtag is counted above: their words are left out, anywhere.
    skipped: set[str] = set()
    found: dict[str, int] = {}
    for chunk in text.split():
        left_out, significant = _chunk_terms.get(chunk) or _terms_of_chunk(chunk)
        if left_out:
            skipped.update(left_out)
        for word in significant:
            if word not in found:
                found[word] = len(found)
    if skipped:
        found = {word: order for word, order in found.items() if word not in skipped}
    longest = sorted(found, key=lambda word: (-len(word), found[word]))[:MAX_TERMS]
    return hashtags, tuple(sorted(longest, key=found.__getitem__))


# Per whitespace-separated chunk, as words_of folds them: its words if it is an account, hashtag or link (left out),
# else its significant ones. Mentions share most of their vocabulary, so a chunk is read once.
_CHUNK_TERMS_LIMIT = 1 << 16
_chunk_terms: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _terms_of_chunk(chunk: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if len(_chunk_terms) >= _CHUNK_TERMS_LIMIT:
        _chunk_terms.clear()
    words = words_of(chunk)
    if chunk.startswith(_NOT_WORDS):
        terms: tuple[tuple[str, ...], tuple[str, ...]] = (tuple(words), ())
    else:
        terms = ((), tuple(word for word in words
                           if len(word) >= MIN_TERM_LETTERS and word not in STOPWORDS and word.isalpha()))
    _chunk_terms[chunk] = terms
    return terms
