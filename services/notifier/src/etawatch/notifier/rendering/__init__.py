"""Emails as customers read them: Jinja2 templates, dates and windows worded with Babel."""
