"""dossier as an MCP server: start a research, ask while it runs, from any assistant.

``server.py`` builds the SDK's ``MCPServer`` (tools in ``tools.py``, resources and the
prompt in ``resources.py``) over one :class:`~dossier.mcp.backend.Backend`: the services in
this process (``embedded.py``: ``dossier mcp`` on its own, and ``/mcp`` on ``dossier
serve``, ``http.py``) or a running server through the Python client (``remote.py``:
``dossier mcp --server``); ``cli/mcp_server.py`` wires them to stdio. ``views.py`` turns
snapshots and answer frames into what a tool returns.
"""
