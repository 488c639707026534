"""Command line, message and HTTP entry points: parse, call, answer."""
