"""Strict loading of the `crisis:` section: durations, scopes, brands, influencers, override and incident record."""

from typing import Any, Protocol

from ruamel.yaml.comments import CommentedMap

from router.classify.labels import LABELS
from router.crisis.settings import SCOPE_KINDS, CrisisSettings, IncidentRecord, Influencers, Override, ScopeRule
from router.rules.names import check_name
from router.rules.orgmodels.dandelion import account_key, read_accounts
from router.rules.yamltext import (
    YamlText,
    check_keys,
    describe,
    expect_mapping,
    expect_strings,
    line_of,
    require_keys,
)

KEYS = ("enabled", "labels", "window", "hop", "baseline", "calm", "scopes", "brands", "influencers", "override",
        "incident")
SCOPE_KEYS = {"brand": ("min_count", "ratio"), "unit": ("min_count", "ratio"),
              "topic": ("min_count", "ratio", "hashtags", "terms")}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Each scope keeps one count per hop over its baseline: this bounds a scope's state whatever the config says.
MAX_BASELINE_HOPS = 2016
MAX_WINDOW_HOPS = 60
MAX_SPAN = 90 * 86400


class RouteChecks(Protocol):
    """The checks the routing tree's settings pass, which the override and the incident record pass too."""

    def department(self, node: CommentedMap, key: str, subject: str) -> str: ...

    def copies(self, node: CommentedMap, subject: str) -> tuple[str, ...]: ...

    def tags(self, node: CommentedMap, subject: str) -> tuple[str, ...]: ...

    def priority(self, node: CommentedMap, subject: str) -> str: ...


def parse_crisis(src: YamlText, doc: CommentedMap, checks: RouteChecks) -> CrisisSettings | None:
    """The compiled section, or None when the config has none."""
    if "crisis" not in doc:
        return None
    node = expect_mapping(src, doc["crisis"], line_of(doc, "crisis"), "crisis")
    check_keys(src, node, "crisis", KEYS)
    require_keys(src, node, "crisis", ("window", "baseline", "calm", "scopes", "incident"))
    section = _Section(src, node, checks)
    window, hop, baseline = section.windows()
    return CrisisSettings(
        window=window, hop=hop, baseline=baseline, calm=section.duration("calm"),
        scopes=section.scopes(), incident=section.incident(), labels=section.labels(), brands=section.brands(),
        influencers=section.influencers(), override=section.override(), enabled=section.flag(node, "enabled", True),
    )


class _Section:
    """The checks of one `crisis:` mapping, each error on its line."""

    def __init__(self, src: YamlText, node: CommentedMap, checks: RouteChecks):
        self.src, self.node, self.checks = src, node, checks

    def duration(self, key: str, node: CommentedMap | None = None) -> int:
        node = self.node if node is None else node
        value = node[key]
        text = value if isinstance(value, str) else ""
        number, unit = text[:-1], text[-1:]
        if not (number.isascii() and number.isdigit() and unit in UNITS and 0 < int(number) * UNITS[unit] <= MAX_SPAN):
            raise self.src.error(line_of(node, key), f"crisis {key} must be a duration such as 90s, 15m, 1h or 2d "
                                                     f"(at most 90d), got {describe(value)}")
        return int(number) * UNITS[unit]

    def windows(self) -> tuple[int, int, int]:
        window = self.duration("window")
        hop = self.duration("hop") if "hop" in self.node else window
        baseline = self.duration("baseline")
        line = line_of(self.node, "hop" if "hop" in self.node else "window")
        if window % hop or window // hop > MAX_WINDOW_HOPS:
            raise self.src.error(line, f"crisis window ({window}s) must be a whole number of hops ({hop}s), "
                                       f"at most {MAX_WINDOW_HOPS}")
        if baseline % hop or baseline < window or baseline // hop > MAX_BASELINE_HOPS:
            raise self.src.error(line_of(self.node, "baseline"),
                                 f"crisis baseline ({baseline}s) must be at least the window ({window}s) and a whole "
                                 f"number of hops ({hop}s), at most {MAX_BASELINE_HOPS} of them")
        return window, hop, baseline

    def labels(self) -> frozenset[str]:
        if "labels" not in self.node:
            return frozenset({"complaint", "pr_crisis"})
        labels = expect_strings(self.src, self.node["labels"], line_of(self.node, "labels"), "crisis labels")
        for label, line in labels:
            if label not in LABELS:
                raise self.src.error(line, f'crisis counts unknown label "{label}" (known: {", ".join(LABELS)})')
        return frozenset(label for label, _ in labels)

    def scopes(self) -> tuple[ScopeRule, ...]:
        node = expect_mapping(self.src, self.node["scopes"], line_of(self.node, "scopes"), "crisis scopes")
        if not node:
            raise self.src.error(line_of(self.node, "scopes"), f"crisis scopes is empty: give at least one of "
                                                               f"{', '.join(SCOPE_KINDS)}")
        check_keys(self.src, node, "crisis scopes", SCOPE_KINDS)
        return tuple(self.scope(kind, node[kind], line_of(node, kind)) for kind in node)

    def scope(self, kind: str, value: Any, line: int) -> ScopeRule:
        subject = f"crisis scope {kind}"
        node = expect_mapping(self.src, value, line, subject)
        check_keys(self.src, node, subject, SCOPE_KEYS[kind])
        require_keys(self.src, node, subject, ("min_count", "ratio"))
        count, ratio = node["min_count"], node["ratio"]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1_000_000:
            raise self.src.error(line_of(node, "min_count"), f"{subject}: min_count must be a whole number from 1 "
                                                             f"to 1000000, got {describe(count)}")
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 1 <= ratio <= 1000:
            raise self.src.error(line_of(node, "ratio"), f"{subject}: ratio must be a number from 1 to 1000 (times "
                                                         f"the baseline a window must hold), got {describe(ratio)}")
        hashtags, terms = self.flag(node, "hashtags", True), self.flag(node, "terms", False)
        if kind == "topic" and not (hashtags or terms):
            raise self.src.error(line, f"{subject} needs hashtags: true or terms: true, else it has no topics")
        return ScopeRule(kind, count, float(ratio), hashtags and kind == "topic", terms)

    def brands(self) -> dict[tuple[str, str], str]:
        if "brands" not in self.node:
            return {}
        node = expect_mapping(self.src, self.node["brands"], line_of(self.node, "brands"), "crisis brands")
        seen: dict[tuple[str, str], tuple[str, int]] = {}
        brands: dict[tuple[str, str], str] = {}
        for name, accounts in node.items():
            line = line_of(node, name)
            check_name(self.src, name, line, "brand")
            for source, account in read_accounts(self.src, accounts, line, f'brand "{name}"', seen):
                brands[(source, account_key(account))] = name
        return brands

    def influencers(self) -> Influencers | None:
        if "influencers" not in self.node:
            return None
        line = line_of(self.node, "influencers")
        node = expect_mapping(self.src, self.node["influencers"], line, "crisis influencers")
        check_keys(self.src, node, "crisis influencers", ("verified", "followers"))
        followers = node.get("followers")
        if followers is not None and (isinstance(followers, bool) or not isinstance(followers, int) or followers < 1):
            raise self.src.error(line_of(node, "followers"), "crisis influencers: followers must be a whole number "
                                                             f"of at least 1, got {describe(followers)}")
        verified = self.flag(node, "verified", False)
        if not verified and followers is None:
            raise self.src.error(line, "crisis influencers names nobody: give verified: true, followers: N, or both")
        return Influencers(verified, followers)

    def override(self) -> Override:
        if "override" not in self.node:
            return Override()
        subject, checks = "crisis override", self.checks
        node = expect_mapping(self.src, self.node["override"], line_of(self.node, "override"), subject)
        check_keys(self.src, node, subject, ("priority", "copies", "tags", "escalate"))
        return Override(checks.priority(node, subject) if "priority" in node else None,
                        checks.copies(node, subject) if "copies" in node else (),
                        checks.tags(node, subject) if "tags" in node else (), self.flag(node, "escalate", False))

    def incident(self) -> IncidentRecord:
        subject, checks = "crisis incident", self.checks
        node = expect_mapping(self.src, self.node["incident"], line_of(self.node, "incident"), subject)
        check_keys(self.src, node, subject, ("owner", "copies", "priority"))
        require_keys(self.src, node, subject, ("owner",))
        owner = checks.department(node, "owner", subject)
        copies = checks.copies(node, subject) if "copies" in node else ()
        priority = checks.priority(node, subject) if "priority" in node else "urgent"
        return IncidentRecord(owner, tuple(copy for copy in copies if copy != owner), priority)

    def flag(self, node: CommentedMap, key: str, default: bool) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            raise self.src.error(line_of(node, key), f"crisis {key} must be true or false, got {describe(value)}")
        return value
