"""The dashboard's queries: set-based reads of the tables the system writes, one module per
page, each returning frozen view types. Nothing here writes, and nothing calls a venue.

Where a figure needs a venue (a mark, a margin, a liquidation price) it is taken from what
monitoring and the funding collector stored, and the page says as of when.
"""
