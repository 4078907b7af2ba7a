"""HTTP, SSE and WebSocket edges: they talk only to SessionService."""
