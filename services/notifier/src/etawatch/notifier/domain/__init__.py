"""Pure notification rules: what changed for a customer, and whether and when to tell them."""
