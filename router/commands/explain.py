"""`inbox-router explain`: how one mention would be routed, route by route."""

import argparse
import sys
from functools import cache, partial
from pathlib import Path

from router.classify.careful import Cascade, for_config
from router.classify.classifier import Classifier, ForcedLabel, load_model
from router.classify.labels import CAREFUL_STAGE, LABELS, Classification
from router.conversations import Conversations
from router.crisis.settings import Incident
from router.crisis.signals import Signal
from router.errors import RouterError
from router.mentions import Mention, decode_record
from router.pipeline import crisis_signal, remember
from router.rules import Explanation, RoutingConfig, load_config
from router.rules.render import render_explanation

NAME = "explain"
HELP = "Explain how a mention (JSON file, or - for standard input) is classified and routed."
EXAMPLE_INCIDENT = "inc-example"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mention", metavar="MENTION.json", help="a mention, canonical or native payload; - reads stdin")
    parser.add_argument("--config", required=True, help="the routing config file")
    parser.add_argument("--model", type=Path, help="classifier model directory (default: the shipped model)")
    parser.add_argument("--label", choices=LABELS, help="force the label instead of running the classifier")
    parser.add_argument("--confidence", type=float, default=1.0, help="confidence of a forced label (default 1.0)")
    parser.add_argument("--thread-owner", metavar="DEPARTMENT",
                        help="route as a reply in a thread that DEPARTMENT already owns (mentions with a thread_id)")
    parser.add_argument("--incident", nargs="?", const=EXAMPLE_INCIDENT, metavar="ID",
                        help="route as a mention of an open incident of its first crisis scope (the config's crisis "
                             "override applies)")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        raw = sys.stdin.buffer.read() if args.mention == "-" else Path(args.mention).read_bytes()
        mentions = decode_record(raw)
        classifier = _classifier(args, config)
        fast, classifications = _stages(classifier, [m.text for m in mentions], [m.lang for m in mentions])
        if args.incident and config.crisis is None:
            raise RouterError(f"{args.config} has no crisis section: no incident can be open")
        explanations = _explain(config, mentions, classifications, classifier, args.thread_owner, args.incident)
        threshold = config.threshold(classifier)
    except (RouterError, OSError) as error:
        print(f"explain: {error}", file=sys.stderr)
        return 1
    for index, (mention, explanation) in enumerate(zip(mentions, explanations)):
        if index:
            print()
        print(f"mention {mention.id} ({mention.source}{_lang(mention.lang, explanation.classification.lang)})")
        if config.careful_below is not None:
            print(_stage_line(fast[index], explanation.classification, config.careful_below))
        print("\n".join(render_explanation(config, explanation, threshold)))
        signal = crisis_signal(mention, explanation.classification, explanation.decision, config)
        if signal is not None:
            print(_crisis_line(signal))
    return 0


def _crisis_line(signal: Signal) -> str:
    """What crisis detection makes of the mention: whether it counts, in which scopes, whether it is influential."""
    counted = "counted" if signal.counted else "not counted (not a counted label nor an escalation)"
    scopes = ", ".join(signal.scopes) or "none (no account, unit or topic)"
    influential = "; an influencer: it opens an incident on its own" if signal.influential else ""
    return f"crisis detection: {counted}; scopes {scopes}{influential}"


def _lang(given: str | None, found: str | None) -> str:
    if given:
        return f", lang {given}"
    return f", lang {found} (detected)" if found else ""


def _explain(config: RoutingConfig, mentions: list[Mention], classifications: list[Classification],
             classifier: Classifier, thread_owner: str | None, incident_id: str | None = None) -> list[Explanation]:
    """Each mention as the worker routes it after the ones before it: comments of one thread keep its owner."""
    conversations = Conversations()
    explanations = []
    for mention, classification in zip(mentions, classifications):
        if thread_owner and mention.thread_id:
            conversations.record(mention.partition_key, None, thread_owner)
        held = conversations.lookup(mention.partition_key)
        incident = _incident(config, mention, classification, classifier, incident_id)
        explanation = config.route(mention, classification, classifier=classifier, trace=[], thread=held,
                                   incident=incident)
        remember(conversations, mention, explanation.decision)
        explanations.append(explanation)
    return explanations


def _incident(config: RoutingConfig, mention: Mention, classification: Classification, classifier: Classifier,
              incident_id: str | None) -> Incident | None:
    """The incident `--incident` names, open in the first crisis scope of the mention."""
    if incident_id is None:
        return None
    decision = config.route(mention, classification, classifier=classifier).decision
    signal = crisis_signal(mention, classification, decision, config)
    return Incident(incident_id, signal.scopes[0] if signal and signal.scopes else "none")


def _classifier(args: argparse.Namespace, config: RoutingConfig) -> Classifier:
    """The model (the cascade if the config has a careful stage), or a forced label judged against the model's
    threshold (loaded only if the config has none)."""
    model = cache(partial(load_model, args.model))
    return ForcedLabel(args.label, args.confidence, model=model) if args.label else for_config(model(), config)


def _stages(classifier: Classifier, texts: list[str], langs: list[str | None]
            ) -> tuple[list[Classification], list[Classification]]:
    """The fast labels and the labels routing uses (the same ones unless a careful stage looked again)."""
    if isinstance(classifier, Cascade):
        return classifier.stages(texts, langs)
    labelled = classifier.classify(texts, langs)
    return labelled, labelled


def _stage_line(fast: Classification, final: Classification, below: float) -> str:
    """Which stage labelled the mention, and what the fast stage said."""
    said = f"fast {fast.label} {fast.confidence:.2f}"
    if final.stage == CAREFUL_STAGE:
        return f"stage: careful ({said}, below careful_below {below:.2f}; careful {final.label} {final.confidence:.2f})"
    if fast.doubt:
        return f"stage: fast ({said}, doubted: {fast.doubt}, so triaged without a second look)"
    return f"stage: fast ({said}, not below careful_below {below:.2f})"
