"""The Altimeter organisation models, one module each, found by the name a config gives in `org_model:`."""

import importlib
import pkgutil

from router.rules.orgmodels.base import REGISTRY, UNASSIGNED, Delivery, OrgModel

# Importing a model's module registers its class: a new model is a new module here, nothing else.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

ORG_MODELS = tuple(sorted(REGISTRY))
# Top-level config keys that one model alone reads, in the order the config's keys are listed.
SECTIONS = {cls.section: cls for _, cls in sorted(REGISTRY.items()) if cls.section}

__all__ = ["Delivery", "ORG_MODELS", "OrgModel", "REGISTRY", "SECTIONS", "UNASSIGNED"]
