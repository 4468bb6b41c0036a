"""The public site: pages, feeds out, shared links, kiosk (gnews/site)."""
