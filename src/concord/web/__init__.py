"""The web layer: FastAPI app with the JSON API (``/api``) and the HTML UI, both thin."""
