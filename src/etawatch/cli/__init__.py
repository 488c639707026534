"""The all-in-one ``etawatch`` command."""
