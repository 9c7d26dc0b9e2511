"""The self-contained HTML report (no network: inline CSS/JS, data-URI thumbnails, inline SVG)."""
