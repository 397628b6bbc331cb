"""The long-running Kafka worker: a loop that consumes, routes, delivers and commits, inside a faust app."""
