"""The composition root: builds collectors, rules, state and notify from config and environment."""
