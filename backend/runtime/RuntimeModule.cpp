#include "RuntimeModule.h"

#include "Runtime.h"
#include "services/ServicesModule.h"

namespace viv {

RuntimeManager *installRuntime(const DefaultProviders &providers, const Services &services, QObject *owner)
{
    auto *runtime = new RuntimeManager(providers, *services.sessions, *services.events, *services.credentials, owner);
    // The runtime's collaborators: model providers, and an executor per toolset (ToolRouter).
    const ProviderTimeouts timeouts = runtime->options().timeouts;
    runtime->setModelProvider(ProviderEndpoint::Kind::Anthropic, makeAnthropicProvider(runtime->network(), timeouts));
    runtime->setModelProvider(ProviderEndpoint::Kind::OpenAi, makeOpenAiProvider(runtime->network(), timeouts));
    runtime->setToolExecutor(makeNoSandboxToolExecutor()); // until sandbox/SandboxModule installs the VM's
    runtime->setMcpTools(std::make_unique<McpTools>(*services.sessions, *services.credentials));
    runtime->start(); // crash recovery, then queued work resumes
    return runtime;
}

} // namespace viv
