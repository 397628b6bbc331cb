"""Test doubles for replay: a deterministic keyword classifier with the real one's interface, and small configs."""

from collections.abc import Sequence

from router.classify.labels import Classification

KEYWORDS = {  # a few words per label, English and French; enough to make routing take different paths
    "complaint": ("worst", "refund", "rude", "dirty", "cold", "waited", "broken", "rembours", "inacceptable", "sale"),
    "sales_lead": ("price", "quote", "rate", "book", "availability", "gift", "tarif", "soumission", "réserver"),
    "recruitment": ("hiring", "job", "cv", "internship", "embauch", "emploi", "postuler", "stage"),
    "pr_crisis": ("poisoning", "boycott", "journalist", "lawsuit", "intoxication", "scandale", "légionellose"),
}


class KeywordClassifier:
    """Label = the label with most keyword hits; confidence grows with the hits, so some mentions go to triage."""

    threshold = 0.5

    def __init__(self, version: str = "keywords-1") -> None:
        self.version = version

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        return [self._one(text.lower()) for text in texts]

    def _one(self, text: str) -> Classification:
        hits = {label: sum(word in text for word in words) for label, words in KEYWORDS.items()}
        best = max(hits, key=lambda label: (hits[label], label))
        if not hits[best]:
            best = "other"
        confidence = 0.4 if best == "other" else min(0.45 + 0.2 * hits[best], 0.95)
        return Classification.forced(best, confidence)


# A small hub-and-spoke config that routes each label to its own department, for replay tests.
# Its hub sees crises only, so that what reaches the hub tells triage and crises apart.
ROUTING_YAML = """\
org_model: hub_and_spoke
confidence_threshold: 0.5
departments:
  marketing: q.marketing
  customer_service: q.customer_service
  sales: q.sales
  human_resources: q.hr
  public_affairs: q.public_affairs
  legal: q.legal
topics:
  hub: q.hub
hub:
  sees: [crisis]
route:
  name: root
  owner: marketing
  routes:
    - name: crisis
      match:
        - label = "pr_crisis"
      owner: public_affairs
      copies: [legal]
      priority: urgent
    - name: complaint
      match:
        - label = "complaint"
      owner: customer_service
    - name: sales
      match:
        - label = "sales_lead"
      owner: sales
    - name: recruitment
      match:
        - label = "recruitment"
      owner: human_resources
"""

# The same config after a change: recruitment moves to marketing, and crises lose their urgency.
CHANGED_ROUTING_YAML = ROUTING_YAML.replace("owner: human_resources", "owner: marketing").replace(
    "priority: urgent", "priority: high")
