#pragma once

class QObject;

namespace viv {

struct DefaultProviders;
struct Services;
class RuntimeManager;

// Creates the agent loop of every session over the services, installs its collaborators (the
// Anthropic and OpenAI model providers; the ToolRouter's executors: the no-sandbox one for
// built-in tools until a layer above installs another (sandbox/SandboxModule), McpTools for
// MCP tools) and starts it (crash recovery, then queued work resumes). `providers` must outlive
// it (the Backend's Config).
RuntimeManager *installRuntime(const DefaultProviders &providers, const Services &services, QObject *owner);

} // namespace viv
