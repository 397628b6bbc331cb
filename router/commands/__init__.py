"""Subcommands of the inbox-router command line, one module each."""
