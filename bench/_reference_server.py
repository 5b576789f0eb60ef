"""Bench-only reference: a stdio MCP server built with the official SDK, one echo tool."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("reference-echo")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


if __name__ == "__main__":
    server.run("stdio")
