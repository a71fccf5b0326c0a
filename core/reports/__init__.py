"""Reports: figures kept as tickets change, not recounted per page.

  schema.py    the facts and rollups tables' SQL and the triggers that append facts (both databases)
  tables.py    their piccolo tables (bound like the core's, emptied by the tests)
  rollups.py   folding facts into hourly rollups; `relaydesk reports rebuild`
  figures.py   what the pages and the API read: totals, series, breakdowns, the heatmap
  forecast.py, staffing.py  volume forecast and Erlang C

Nothing here is imported by core.tables but tables.py, so this package stays light to import.
"""
