#pragma once

class QObject;

namespace viv {

struct DefaultProviders;
struct Services;
class RuntimeManager;

// Creates the agent loop of every session over the services and starts it (crash recovery,
// then queued work resumes). It runs tools with the no-sandbox executor until a layer above
// installs another (sandbox/SandboxModule). `providers` must outlive it (the Backend's Config).
RuntimeManager *installRuntime(const DefaultProviders &providers, const Services &services, QObject *owner);

} // namespace viv
