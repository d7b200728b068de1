"""The dashboard (``GET /``): sign-in, sessions, CSRF, view links, the page and its chart routes."""
