"""Property: no mention, classification or confidence flag makes routing raise, in any org model."""

from datetime import timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from router.classify.labels import LABELS, Classification
from router.mentions import Mention
from router.rules import load_config
from router.rules.config import compile_text
from router.rules.yamltext import YamlText

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [load_config(REPO / "config" / "router.yaml")] + [
    load_config(path) for path in sorted((REPO / "config" / "examples").glob("*.yaml"))
    if not path.name.endswith(".tests.yaml")
]
# Every field under a `continue` route, so that every matcher kind sees every generated mention.
EVERY_MATCHER = [
    'text =~ ".*é.*"', 'account =~ "(?i)x.*"', 'lang !~ "fr"', 'author.handle =~ ".+"', 'author.id = "1"',
    'business_unit =~ "h.*"', 'id =~ ".*"', 'thread_id = "t"', "confidence < 0.5", "score.complaint >= 0.2",
    "rating <= 2", "author.followers > 100", "author.verified = true", "low_confidence = true",
    "source != twitter", 'label =~ "c.*"', "hour = 18-8", "weekday = sat,sun", "business_hours = true",
]
EVERY_ROUTE = "\n".join(
    f"    - name: r{i}\n      continue: true\n      match: ['{m}']\n      tags: [t{i}]\n      respond_within: {i + 1}h"
    for i, m in enumerate(EVERY_MATCHER)
)
ALL_FIELDS_CONFIG = compile_text(YamlText("every-matcher.yaml", f"""\
org_model: decentralized
departments: {{sales: q.sales}}
topics: {{unassigned: q.none}}
calendar:
  time_zone: Pacific/Kiritimati
  hours: {{mon-fri: ["00:00-01:00", "23:00-24:00"], sun: "09:00-17:00"}}
  holidays: [2026-11-20]
route:
  name: root
  respond_within: 2d
  routes:
{EVERY_ROUTE}
    - name: words
      match: [words: [refund, remboursé, money back]]
      owner: sales
""".encode()))
ACCOUNTS = ["ChateauLaurentides", "@golflaurentides", "5550123", "104857600001", "", "x" * 300]

# Words the shipped rules look for, so that generated texts reach deep routes, mixed with any
# character at all, lone surrogates included (JSON can carry them).
WORDS = ["refund", "Remboursé", "money back", "charter", "app", "délai", "GDPR", "is down", "malade", "wedding", "tee time", "fairway", " "]
texts = st.lists(
    st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from(WORDS)), max_size=60
).map("".join)
maybe_text = st.one_of(st.none(), texts, st.sampled_from(["hotel", "golf", "fr", "en"]))
authors = st.one_of(
    st.none(),
    st.builds(
        dict,
        handle=maybe_text,
        followers=st.one_of(st.none(), st.integers(min_value=0, max_value=10**12)),
        verified=st.one_of(st.none(), st.booleans()),
    ),
)
mentions = st.builds(
    lambda **fields: Mention.model_validate({k: v for k, v in fields.items() if v is not None}),
    id=st.text(min_size=1, max_size=10),
    source=st.sampled_from(["twitter", "tripadvisor", "facebook", "linkedin"]),
    text=texts,
    # Any instant, in offsets as far apart as they go: the local-time matchers and deadlines meet the first and
    # last days that datetime can hold.
    created_at=st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=14)),
                                                       timezone(timedelta(hours=-12))])),
    author=authors,
    lang=maybe_text,
    account=st.one_of(st.none(), st.sampled_from(ACCOUNTS), st.text(max_size=20)),
    business_unit=maybe_text,
    rating=st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
)
probability = st.floats(min_value=0, max_value=1, allow_nan=False)
classifications = st.builds(
    Classification,
    label=st.sampled_from(LABELS),
    confidence=probability,
    scores=st.dictionaries(st.sampled_from(LABELS), probability),
)


@settings(max_examples=300, deadline=None)
@given(mention=mentions, classification=classifications, low=st.booleans(), index=st.integers(0, len(CONFIGS) - 1))
def test_routing_never_raises(mention, classification, low, index):
    config = CONFIGS[index]
    decision = config.decide(mention, classification, low_confidence=low)
    assert decision.queues, "every mention is delivered somewhere"
    assert set(decision.queues) <= config.topics()
    assert decision.route[0] == "root"
    assert decision.owner not in decision.copies


@settings(max_examples=300, deadline=None)
@given(mention=mentions, classification=classifications, low=st.booleans())
def test_every_matcher_kind_survives_any_mention(mention, classification, low):
    decision = ALL_FIELDS_CONFIG.decide(mention, classification, low_confidence=low)
    assert decision.queues in (("q.none",), ("q.sales",))
    assert decision.due_by is None or decision.due_by > mention.created_at
    explained = ALL_FIELDS_CONFIG.explain(mention, classification, low_confidence=low).decision
    assert explained == decision
