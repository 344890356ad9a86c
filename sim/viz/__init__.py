"""dipsim's browser app, a room of its own beside the model (as Mesa's examples keep ``app.py``).

``sim.viz.app`` is the Solara app (``dipsim viz`` serves it by module name, in a subprocess): the simulation
page (``components`` drawing ``data`` and ``figures``) and the sweep-results page (``sweep_page`` drawing
``sweep_data`` and ``experiments.figures``); ``ui`` and ``commands`` are what both pages share. What the
server may open and accept: ``roots``, ``upload``, ``page_size``; ``serve`` and ``token_guard`` put the app
behind a token when it listens beyond this machine.

The page imports the engine and the read side of ``experiments``; nothing outside this package imports it.
"""
