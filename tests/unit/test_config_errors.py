"""One test per config validation error, each with its exact message: file, line, plain explanation."""

import textwrap

import pytest

from router.errors import ConfigError
from router.rules import load_config

HEAD = """\
org_model: hub_and_spoke
departments:
  customer_service: dept.cs
  sales: dept.sales
  legal: dept.legal
topics:
  hub: social.hub
"""
ROUTE = """\
route:
  name: root
  owner: customer_service
  routes:
    - name: sales
      match: ['label = "sales_lead"']
      owner: sales
"""
# Lines 1-7 are HEAD, 8-14 are ROUTE; extra routes start at line 15.


def error_of(tmp_path, text: str) -> str:
    path = tmp_path / "router.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


def with_route(extra: str) -> str:
    return HEAD + ROUTE + textwrap.indent(textwrap.dedent(extra), "    ")


def test_the_base_config_is_valid(tmp_path):
    path = tmp_path / "router.yaml"
    path.write_text(HEAD + ROUTE)
    assert load_config(path).org_model == "hub_and_spoke"


# --- the file as a whole ---------------------------------------------------------------------

def test_invalid_yaml(tmp_path):
    assert error_of(tmp_path, "org_model: [hub\n") == "2: invalid YAML: expected ',' or ']', but got '<stream end>'"


def test_duplicate_yaml_key(tmp_path):
    text = HEAD + "org_model: centralized\n" + ROUTE
    assert error_of(tmp_path, text) == (
        '8: invalid YAML: found duplicate key "org_model" with value "centralized" (original value: "hub_and_spoke")'
    )


def test_not_utf8(tmp_path):
    path = tmp_path / "router.yaml"
    path.write_bytes(b"org_model: hub\nname: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"router.yaml:2: the file is not valid UTF-8$"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nothere.yaml:0: cannot read the file: No such file or directory$"):
        load_config(tmp_path / "nothere.yaml")


def test_not_a_mapping(tmp_path):
    assert error_of(tmp_path, "- a\n- b\n") == (
        "1: the config must be a mapping with org_model, departments, topics and route"
    )


def test_unknown_top_level_key_with_suggestion(tmp_path):
    assert error_of(tmp_path, HEAD + "confidence_treshold: 0.5\n" + ROUTE) == (
        '8: the config has unknown key "confidence_treshold" (did you mean "confidence_threshold"?)'
    )


def test_unknown_top_level_key_without_suggestion(tmp_path):
    assert error_of(tmp_path, HEAD + "zzz: 1\n" + ROUTE) == (
        '8: the config has unknown key "zzz" (expected one of: org_model, confidence_threshold, careful_below, '
        "departments, topics, business_units, policy, hub, calendar, crisis, route)"
    )


def test_missing_required_key(tmp_path):
    assert error_of(tmp_path, HEAD) == '1: the config is missing the required key "route"'


def test_unknown_org_model(tmp_path):
    text = (HEAD + ROUTE).replace("org_model: hub_and_spoke", "org_model: hub-and-spoke")
    assert error_of(tmp_path, text) == (
        '1: unknown org_model "hub-and-spoke" (expected one of: centralized, dandelion, decentralized, honeycomb, '
        "hub_and_spoke)"
    )


@pytest.mark.parametrize("value, shown", [("1.5", "1.5"), ("-0.1", "-0.1"), ('"high"', '"high"'), ("true", "true")])
def test_threshold_out_of_range(tmp_path, value, shown):
    assert error_of(tmp_path, HEAD + f"confidence_threshold: {value}\n" + ROUTE) == (
        f"8: confidence_threshold must be a number between 0 and 1, got {shown}"
    )


# --- departments and topics -------------------------------------------------------------------

def test_departments_not_a_mapping(tmp_path):
    text = "org_model: hub_and_spoke\ndepartments: [sales]\ntopics: {hub: h}\n" + ROUTE
    assert error_of(tmp_path, text) == "2: departments must be a mapping of keys to values"


def test_departments_empty(tmp_path):
    text = "org_model: hub_and_spoke\ndepartments: {}\ntopics: {hub: h}\n" + ROUTE
    assert error_of(tmp_path, text) == "2: departments must declare at least one department"


def test_invalid_department_name(tmp_path):
    text = (HEAD + ROUTE).replace("  legal: dept.legal", "  legal team: dept.legal")
    assert error_of(tmp_path, text) == '5: invalid department name "legal team": use letters, digits, "_", "-" or "."'


def test_unassigned_is_not_a_department(tmp_path):
    text = (HEAD + ROUTE).replace("  legal: dept.legal", "  unassigned: dept.legal")
    assert error_of(tmp_path, text) == (
        '5: "unassigned" is reserved for what no rule owns; it cannot be a department'
    )


def test_department_without_queue(tmp_path):
    text = (HEAD + ROUTE).replace("  legal: dept.legal", "  legal:")
    assert error_of(tmp_path, text) == '5: department "legal" needs a queue topic in org_model hub_and_spoke'


def test_invalid_topic_name(tmp_path):
    text = (HEAD + ROUTE).replace("sales: dept.sales", "sales: dept sales")
    assert error_of(tmp_path, text) == (
        '4: invalid Kafka topic name "dept sales": use 1 to 249 letters, digits, ".", "_" or "-"'
    )


def test_topic_name_too_long(tmp_path):
    text = (HEAD + ROUTE).replace("hub: social.hub", "hub: " + "h" * 250)
    assert error_of(tmp_path, text).startswith('7: invalid Kafka topic name "hhhh')


def test_topic_the_model_does_not_use(tmp_path):
    text = (HEAD + ROUTE).replace("  hub: social.hub", "  hub: social.hub\n  central: social.central")
    assert error_of(tmp_path, text) == (
        '8: topics has key "central", which org_model hub_and_spoke does not use (it uses: hub)'
    )


def test_topic_the_model_needs(tmp_path):
    text = (HEAD + ROUTE).replace("  hub: social.hub", "  {}").replace("topics:\n  {}", "topics: {}")
    assert error_of(tmp_path, text) == "6: org_model hub_and_spoke needs topics.hub"


# --- organisation-model sections ---------------------------------------------------------------

def test_business_units_outside_dandelion(tmp_path):
    text = HEAD + "business_units: {}\n" + ROUTE
    assert error_of(tmp_path, text) == "8: business_units is only used by org_model dandelion"


DANDELION = """\
org_model: dandelion
departments:
  customer_service: dept.cs
  sales: dept.sales
topics:
  corporate_hub: corp.hub
business_units:
  hotel:
    hub: hotel.hub
    accounts:
      twitter: [GrandHotel]
    departments:
      customer_service: hotel.cs
"""


def test_dandelion_without_units(tmp_path):
    text = DANDELION.split("business_units:")[0] + ROUTE
    assert error_of(tmp_path, text) == "1: org_model dandelion needs business_units, each with its hub"


def test_unit_without_hub(tmp_path):
    text = DANDELION.replace("    hub: hotel.hub\n", "") + ROUTE
    assert error_of(tmp_path, text) == '9: business unit "hotel" is missing the required key "hub"'


def test_unit_unknown_key(tmp_path):
    text = DANDELION.replace("    hub: hotel.hub\n", "    hub: hotel.hub\n    hubs: x\n") + ROUTE
    assert error_of(tmp_path, text) == '10: business unit "hotel" has unknown key "hubs" (did you mean "hub"?)'


def test_unit_unknown_department(tmp_path):
    text = DANDELION.replace("      customer_service: hotel.cs", "      concierge: hotel.cs") + ROUTE
    assert error_of(tmp_path, text) == (
        '13: business unit "hotel" names unknown department "concierge" (declared: customer_service, sales)'
    )


def test_unit_unknown_source(tmp_path):
    text = DANDELION.replace("      twitter: [GrandHotel]", "      instagram: [GrandHotel]") + ROUTE
    assert error_of(tmp_path, text) == (
        '11: business unit "hotel" accounts has unknown key "instagram" (expected one of: twitter, tripadvisor, facebook, linkedin)'
    )


def test_account_in_two_units(tmp_path):
    text = DANDELION + "  golf:\n    hub: golf.hub\n    accounts:\n      twitter: ['@grandhotel']\n" + ROUTE
    assert error_of(tmp_path, text) == (
        '17: twitter account "@grandhotel" already belongs to business unit "hotel" (line 11)'
    )


def test_unknown_business_unit_in_matcher(tmp_path):
    text = DANDELION + ROUTE.replace('label = "sales_lead"', "business_unit = golf")
    assert error_of(tmp_path, text) == (
        "19: route \"sales\" has an invalid matcher 'business_unit = golf': unknown business unit \"golf\" (known: hotel)"
    )


def test_policy_outside_honeycomb(tmp_path):
    assert error_of(tmp_path, HEAD + "policy: {}\n" + ROUTE) == "8: policy is only used by org_model honeycomb"


HONEYCOMB = HEAD.replace("hub_and_spoke", "honeycomb").replace("hub: social.hub", "shared_stream: social.all")


def test_policy_unknown_label(tmp_path):
    text = HONEYCOMB + "policy:\n  reserved_labels: [crisis]\n" + ROUTE
    assert error_of(tmp_path, text) == (
        '9: policy reserves unknown label "crisis" (known: complaint, sales_lead, recruitment, pr_crisis, other)'
    )


def test_policy_unknown_department(tmp_path):
    text = HONEYCOMB + "policy:\n  reserved_departments: [lawyers]\n" + ROUTE
    assert error_of(tmp_path, text) == (
        '9: policy reserves unknown department "lawyers" (declared: customer_service, sales, legal)'
    )


def test_policy_unknown_key(tmp_path):
    text = HONEYCOMB + "policy:\n  reserved_label: [pr_crisis]\n" + ROUTE
    assert error_of(tmp_path, text) == '9: policy has unknown key "reserved_label" (did you mean "reserved_labels"?)'


# --- routes -----------------------------------------------------------------------------------

def test_route_unknown_key(tmp_path):
    assert error_of(tmp_path, with_route("- name: other\n  contnue: true\n")) == (
        '16: route "other" has unknown key "contnue" (did you mean "continue"?)'
    )


def test_route_without_name(tmp_path):
    assert error_of(tmp_path, with_route("- owner: legal\n")) == (
        '15: route has no name: every route needs a unique "name"'
    )


def test_duplicate_route_name(tmp_path):
    assert error_of(tmp_path, with_route("- name: sales\n  owner: legal\n")) == (
        '15: duplicate route name "sales" (first used at line 12)'
    )


def test_invalid_route_name(tmp_path):
    assert error_of(tmp_path, with_route("- name: big sale\n")) == (
        '15: invalid route name "big sale": use letters, digits, "_", "-" or "."'
    )


def test_unknown_owner(tmp_path):
    assert error_of(tmp_path, with_route("- name: hr\n  owner: human_resources\n")) == (
        '16: route "hr" names unknown department "human_resources" (declared: customer_service, legal, sales)'
    )


def test_unknown_copy(tmp_path):
    assert error_of(tmp_path, with_route("- name: c\n  copies:\n    - legal\n    - public_affairs\n")) == (
        '18: route "c" copies unknown department "public_affairs" (declared: customer_service, legal, sales)'
    )


def test_unknown_priority(tmp_path):
    assert error_of(tmp_path, with_route("- name: p\n  priority: critical\n")) == (
        '16: route "p" has unknown priority "critical" (expected one of: low, normal, high, urgent)'
    )


@pytest.mark.parametrize("key", ["continue", "escalate", "sticky"])
def test_flag_not_boolean(tmp_path, key):
    assert error_of(tmp_path, with_route(f"- name: f\n  {key}: yes please\n")) == (
        f'16: route "f": {key} must be true or false, got "yes please"'
    )


def test_routes_not_a_list(tmp_path):
    assert error_of(tmp_path, with_route("- name: r\n  routes: {name: x}\n")) == '16: route "r" routes must be a list'


def test_root_with_matchers(tmp_path):
    text = HEAD + ROUTE.replace("  owner: customer_service\n", "  owner: customer_service\n  match: ['lang = fr']\n")
    assert error_of(tmp_path, text) == '11: the root route cannot have "match": it receives every mention'


def test_root_without_owner(tmp_path):
    text = HEAD + ROUTE.replace("  owner: customer_service\n", "")
    assert error_of(tmp_path, text) == (
        "9: the root route needs an owner: in org_model hub_and_spoke every mention has one "
        "(only decentralized leaves mentions unassigned)"
    )


def test_route_shadowed_by_catch_all_sibling(tmp_path):
    extra = "- name: everything\n  owner: legal\n- name: never\n  match: ['lang = fr']\n"
    assert error_of(tmp_path, with_route(extra)) == (
        '17: route "never" can never match: the earlier sibling "everything" (line 15) has no matchers and no '
        "continue, so it catches everything first"
    )


def test_catch_all_with_continue_shadows_nothing(tmp_path):
    path = tmp_path / "router.yaml"
    path.write_text(with_route("- name: everything\n  continue: true\n  tags: [seen]\n- name: later\n  owner: legal\n"))
    assert load_config(path).tree.children[-1].name == "later"


# --- matchers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "matcher, reason",
    [
        ('text =~ "(refund"', 'invalid regular expression "(refund": missing ): (refund'),
        ('text =~ "a)|(b"', 'invalid regular expression "a)|(b": unexpected ): a)|(b'),
        ('text =~ "(a)\\\\1"', 'invalid regular expression "(a)\\1": invalid escape sequence: \\1'),
        ('labl = "complaint"', 'unknown field "labl" (did you mean "label"?)'),
        ('label == "complaint"', 'compare with a single "=", not "=="'),
        ("lang = en us", "unexpected text after the value: 'us' (quote values that contain spaces)"),
        ("label complaint", 'expected an operator after "label": one of = != =~ !~ < <= > >='),
        ("label =", 'expected a value after "label ="'),
        ('label = "complaint', "a quoted value is missing its closing double quote"),
        ('label = "complaints"', 'unknown label "complaints" (known: complaint, sales_lead, recruitment, pr_crisis, other)'),
        ("source = instagram", 'unknown source "instagram" (known: twitter, tripadvisor, facebook, linkedin)'),
        ("label < 3", '"label" is text: compare it with =, !=, =~ or !~, not <'),
        ("confidence < high", '"confidence" is a number, but "high" is not a number'),
        ('rating = "5"', '"rating" is a number, but "5" is not a number'),
        ("rating =~ 5", '"rating" is a number: compare it with = != < <= > >=, not =~'),
        ("author.verified = yes", '"author.verified" is true or false, but got "yes"'),
        ("author.verified > true", '"author.verified" is true or false: compare it with = or !=, not >'),
        ("= 3", "expected a field name such as label, confidence or text, then an operator and a value"),
        ("words = refund", '"words" is written as a mapping: `- words: [refund, remboursement]`'),
    ],
)
def test_invalid_matcher(tmp_path, matcher, reason):
    quoted = "'" + matcher.replace("'", "''") + "'"
    assert error_of(tmp_path, with_route(f"- name: m\n  match:\n    - {quoted}\n")) == (
        f"17: route \"m\" has an invalid matcher '{matcher}': {reason}"
    )


def test_words_without_letters(tmp_path):
    assert error_of(tmp_path, with_route("- name: w\n  match:\n    - words: [refund, '!!']\n")) == (
        '17: route "w" has an invalid matcher \'words: [\'refund\', \'!!\']\': the word "!!" has no letters or digits'
    )


def test_matcher_of_the_wrong_type(tmp_path):
    assert error_of(tmp_path, with_route("- name: n\n  match:\n    - 42\n")) == (
        "17: route \"n\" has a matcher that is neither a string such as 'label = \"complaint\"' "
        "nor a mapping `words: [...]`: got 42"
    )


def test_match_not_a_list(tmp_path):
    assert error_of(tmp_path, with_route("- name: n\n  match: 'lang = fr'\n")) == '16: route "n" match must be a list'
