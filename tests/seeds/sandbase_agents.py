# Seed (b): SandBase's "Agents overview → How it works" (sandbase.ai/docs/agents/), published in
# Python with the official SDK. Changes from the published code:
#   - the key and base URL: VIVARIUM_API_KEY / VIVARIUM_BASE_URL instead of the literals
#     "sk-sb-YOUR_KEY" and "https://api.sandbase.ai";
#   - `from anthropic_requests import Anthropic` instead of `from anthropic import Anthropic`: the
#     Python SDK is not in Debian, so anthropic_requests.py makes the same calls over Debian's
#     `requests` (see there);
#   - the MCP server's host is mcp.sandbase.invalid, not SandBase's own, so that no test could
#     ever reach it (Vivarium has no MCP client: the server is stored, never contacted).
# Steps 2-4 (environment with config.resources, session, a string user.message) are as
# transcribed in tests/sdk/seeds.test.mjs; the stream loop at the end prints the agent's reply
# and stops at idle, the same loop as Sandbox0's events page.
import os

from anthropic_requests import Anthropic

client = Anthropic(api_key=os.environ["VIVARIUM_API_KEY"], base_url=os.environ["VIVARIUM_BASE_URL"])

# 1. Create an agent
agent = client.beta.agents.create(
    model="claude-sonnet-4",
    name="Research Assistant",
    system="You are a research assistant. Search the web to answer questions.",
    tools=[{"type": "agent_toolset_20260401"}],
    mcp_servers=[{"name": "web-search", "type": "url", "url": "https://mcp.sandbase.invalid/web-search/sse"}]
)

# 2. Create an environment
environment = client.beta.environments.create(
    name="research-env",
    config={
        "type": "cloud",
        "networking": {"type": "unrestricted"},
        "resources": {"cpu": 1, "memory_mb": 1024, "timeout": 600},
    },
)

# 3. Start a session
session = client.beta.sessions.create(
    agent=agent.id,
    environment_id=environment.id,
    title="Research task",
)

# 4. Send a message and stream the reply
client.beta.sessions.events.send(
    session.id,
    events=[{"type": "user.message", "content": "Analyze the sales data and create a summary report."}],
)

with client.beta.sessions.events.stream(session.id) as stream:
    for event in stream:
        if event.type == "agent.message":
            for block in event.content:
                if block.type == "text":
                    print(block.text)
        if event.type == "session.status_idle":
            break
