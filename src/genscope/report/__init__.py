"""The self-contained HTML report (no network: inline CSS/JS, data-URI thumbnails, inline SVG)."""

DEFAULT_HEATMAPS = 6  # report cards that get the detector's heat map: each costs ~50 extra detector passes
