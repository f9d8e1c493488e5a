"""District view and printable reports: scope and its protected values, summary, map, charts, PDF."""
