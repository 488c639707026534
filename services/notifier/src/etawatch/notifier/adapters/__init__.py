"""The notifier's connections to the world: database, SMTP, outbox folder."""
