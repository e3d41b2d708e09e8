"""Text shown to people: Jinja2 templates per language (nl, en). Nothing else lives here."""
