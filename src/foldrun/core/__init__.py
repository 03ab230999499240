"""The core layer every package imports and that imports no other foldrun package.

Only `foldrun.errors` may be imported from here: the rules in core/ (which folders foldrun
may replace, how a cell is written to a spreadsheet) hold for every command alike.
"""
