#pragma once

#include "Config.h"
#include "api/ApiModule.h"
#include "core/Result.h"
#include "providers/ProviderSetup.h"
#include "sandbox/SandboxModule.h"
#include "services/ServicesModule.h"

#include <QObject>

class QNetworkAccessManager;

#include <memory>

namespace viv {

class ApiServer;
class Database;
class SecretStore;
class EnvironmentService;
class AgentService;
class VaultService;
class SessionService;
class EventLog;
class SseHub;
class FileService;
class RuntimeManager;
class SandboxManager;
class EnvironmentLayers;
class SandboxProgress;
class SandboxTemplates;

// The composition root of the backend: owns the store, the keychain wrapper and one module per
// layer (services, runtime, sandbox, api; docs/DESIGN.md "Module map"). Lives on one thread (its own in the GUI, the main thread in
// vivariumd); the GUI reaches services through their signals and queued calls.
class Backend : public QObject
{
    Q_OBJECT
public:
    explicit Backend(Config config, QObject *parent = nullptr);
    ~Backend() override;

    // Opens the database, resolves the API key, registers routes and listens.
    Status start();
    // Opens the store and services without the HTTP listener (tests, tools).
    Status startWithoutListening();

    const Config &config() const { return m_config; }
    quint16 port() const { return m_port; }
    QString baseUrl() const;
    QString apiKey() const { return m_config.apiKey; }

    // Resolves the API key: VIVARIUM_API_KEY, else the keychain entry, else a new key written
    // to the keychain. Blocking (start-up only).
    static Result<QString> resolveApiKey(SecretStore &secrets, const QString &fixed);

    // Provider defaults changed in the desktop Settings: used from the next model request on.
    // An empty URL or key keeps the current one; a value the environment set is kept too (the
    // environment wins, see Config::ProviderDefaults).
    void setProviderDefaults(const QString &keyEntry, const QUrl &baseUrl, const QString &apiKey);
    // Stores a provider key in the OS keychain (entry Config::kAnthropicKeyEntry /
    // kOpenAiKeyEntry), then uses it (unless the environment gives the key). Never elsewhere.
    void storeProviderKey(const QString &keyEntry, const QString &apiKey, Callback<Ok> done);
    // The default provider of a format as a turn would use it (no secret).
    ProviderStatus providerStatus(ProviderEndpoint::Kind kind) const { return viv::providerStatus(m_config, kind); }
    // "Test connection": lists the models at `baseUrl` (empty: the provider's URL in use) with
    // `apiKey` (empty: the key in use). Asynchronous, on this backend's thread.
    void probeProvider(ProviderEndpoint::Kind kind, const QUrl &baseUrl, const QString &apiKey,
                       const std::function<void(ProbeResult)> &done);

    Database &database() { return *m_db; }
    SecretStore &secrets() { return *m_secrets; }
    ApiServer &api() { return *m_api.server; }
    EnvironmentService &environments() { return *m_services.environments; }
    AgentService &agents() { return *m_services.agents; }
    VaultService &vaults() { return *m_services.vaults; }
    SessionService &sessions() { return *m_services.sessions; }
    EventLog &events() { return *m_services.events; }
    FileService &files() { return *m_services.files; }
    SkillService &skills() { return *m_services.skills; }
    MemoryStoreService &memoryStores() { return *m_services.memoryStores; }
    // The secret for a target from vaults (MCP bearer, mcp_oauth validation).
    CredentialBroker &credentials() { return *m_services.credentials; }
    SseHub &sse() { return *m_api.sse; }
    // The agent loop of every session (backend/runtime); the sandbox installs its ToolExecutor here.
    RuntimeManager &runtime() { return *m_runtime; }
    // libvirt sandboxes: image cache, warm pool, guest channel (backend/sandbox).
    SandboxManager &sandboxes() { return *m_sandbox.manager; }
    // Environment package layers; nullptr when VIVARIUM_SANDBOX_TOOLS=0.
    EnvironmentLayers *layers() { return m_sandbox.layers; }
    // What sessions' waiting tool calls are blocked on; nullptr when VIVARIUM_SANDBOX_TOOLS=0.
    SandboxProgress *sandboxProgress() { return m_sandbox.progress; }

private:
    Status openServices();
    Config m_config;
    quint16 m_port = 0;
    std::unique_ptr<Database> m_db;
    SecretStore *m_secrets = nullptr;
    Services m_services;
    RuntimeManager *m_runtime = nullptr;
    SandboxModule m_sandbox;
    ApiModule m_api;
    QNetworkAccessManager *m_probeNam = nullptr; // "Test connection" requests
};

} // namespace viv
