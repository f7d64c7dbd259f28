"""Server-rendered pages (Jinja2 + htmx); routes only call service functions and render."""
