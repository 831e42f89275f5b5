# Seed (a): Sandbox0's "Managed Agents → Claude SDK" example (sandbox0.ai/docs/managed-agents/
# claude-sdk), with the stream loop of its "Events" page. Sandbox0 publishes it in TypeScript
# only; this is the same program in Python, call for call, with the Python SDK's spelling over
# Debian's `requests` (anthropic_requests.py: the Python SDK is not packaged in Debian). Nothing
# is changed but the language: it reads the same environment variables as the original
# (SANDBOX0_MANAGED_AGENTS_URL, SANDBOX0_API_KEY for the API; ANTHROPIC_BASE_URL,
# ANTHROPIC_API_KEY, ANTHROPIC_MODEL for the LLM vault), which run_seeds.py points at vivariumd
# and at a scripted model server.
import os
import random
import string
import time

from anthropic_requests import Anthropic


def base36(n):
    digits = string.digits + string.ascii_lowercase
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


client = Anthropic(
    base_url=os.environ.get("SANDBOX0_MANAGED_AGENTS_URL") or "https://agents.sandbox0.ai",
    api_key=os.environ["SANDBOX0_API_KEY"],
)

suffix = f"{base36(int(time.time() * 1000))}-{''.join(random.choices(string.ascii_lowercase + string.digits, k=6))}"

environment = client.beta.environments.create(
    name=f"demo-env-{suffix}",
    config={
        "type": "cloud",
        "networking": {"type": "unrestricted"},
        "packages": {"type": "packages"},
    },
)

agent = client.beta.agents.create(
    name=f"Demo Agent {suffix}",
    model={"id": os.environ.get("ANTHROPIC_MODEL") or "claude-sonnet-4-20250514"},
    system="Reply in one short sentence.",
    tools=[{"type": "agent_toolset_20260401"}],
)

llm_vault = client.beta.vaults.create(
    display_name=f"Claude LLM {suffix}",
    metadata={
        "sandbox0.managed_agents.role": "llm",
        "sandbox0.managed_agents.engine": "claude",
        "sandbox0.managed_agents.llm_base_url": os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com",
    },
)

client.beta.vaults.credentials.create(
    llm_vault.id,
    display_name="Anthropic-compatible API key",
    auth={
        "type": "static_bearer",
        "token": os.environ["ANTHROPIC_API_KEY"],
    },
)

session = client.beta.sessions.create(
    agent=agent.id,
    environment_id=environment.id,
    title=f"Sandbox0 demo {suffix}",
    metadata={
        # the page's optional hard TTL (3600 s is Sandbox0's default; "0" = none)
        "sandbox0.managed_agents.hard_ttl_seconds": "3600",
    },
    vault_ids=[llm_vault.id],
)

client.beta.sessions.events.send(
    session.id,
    events=[{
        "type": "user.message",
        "content": [{"type": "text", "text": "Say hello from Sandbox0 managed agents."}],
    }],
)

stream = client.beta.sessions.events.stream(session.id)
for event in stream:
    if event.type == "agent.message":
        print(event.content)
    if event.type == "session.status_idle":
        break
