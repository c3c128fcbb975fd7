"""`pacer ui`: a local web app for a board (host_tools/commands/ui.py starts it).

link.py owns the serial connection in one thread; server.py is the aiohttp app (security
checks, WebSocket, JSON API); progress.py reads the sessions kept on the computer with
`pacer report`'s parser; static/ is the page, which also runs on its own over Web Serial.
"""
