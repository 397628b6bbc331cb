"""The long-running Kafka worker: a thin faust agent over the pure pipeline."""
