"""Training and data tooling for the classifier: what builds and measures a model, never what runs one."""
