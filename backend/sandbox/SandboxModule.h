#pragma once

#include <QString>

#include <memory>

class QObject;

namespace viv {

struct Services;
class RuntimeManager;
class SandboxManager;
class SandboxTemplates;
class EnvironmentLayers;
class SandboxProgress;

// The sandbox layer as the backend wires it.
struct SandboxModule
{
    SandboxModule();
    ~SandboxModule();

    SandboxManager *manager = nullptr; // libvirt VMs: image cache, warm pool, guest channel
    std::unique_ptr<SandboxTemplates> templates;
    EnvironmentLayers *layers = nullptr;  // environment package layers; nullptr when VIVARIUM_SANDBOX_TOOLS=0
    SandboxProgress *progress = nullptr;  // what waiting tool calls are blocked on; idem
};

// Creates the VM manager under `dataDir`'s instance tag and starts it (orphan sweep; prewarm
// when configured). Unless VIVARIUM_SANDBOX_TOOLS=0, the built-in tools run in the session's VM:
// installs SandboxToolExecutor as the runtime's executor, with the environments' package layers,
// the session's resources, the idle policy and the hard TTL (docs/DESIGN.md "Built-in tools").
// `into` must stay where it is (the templates read `into.layers` late).
void installSandbox(SandboxModule &into, const QString &dataDir, const Services &services,
                    RuntimeManager &runtime, QObject *owner);

} // namespace viv
