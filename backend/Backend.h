#pragma once

#include "Config.h"
#include "core/Result.h"

#include <QObject>

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
class SandboxTemplates;

// The composition root of the backend: owns the store, the keychain wrapper, the services
// and the HTTP server. Lives on one thread (its own in the GUI, the main thread in
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
    // An empty key keeps the current one.
    void setProviderDefaults(const QString &keyEntry, const QUrl &baseUrl, const QString &apiKey);

    Database &database() { return *m_db; }
    SecretStore &secrets() { return *m_secrets; }
    ApiServer &api() { return *m_api; }
    EnvironmentService &environments() { return *m_environments; }
    AgentService &agents() { return *m_agents; }
    VaultService &vaults() { return *m_vaults; }
    SessionService &sessions() { return *m_sessions; }
    EventLog &events() { return *m_events; }
    FileService &files() { return *m_files; }
    SseHub &sse() { return *m_sse; }
    // The agent loop of every session (backend/runtime); the sandbox installs its ToolExecutor here.
    RuntimeManager &runtime() { return *m_runtime; }
    // libvirt sandboxes: image cache, warm pool, guest channel (backend/sandbox).
    SandboxManager &sandboxes() { return *m_sandboxes; }
    // Environment package layers; nullptr when VIVARIUM_SANDBOX_TOOLS=0.
    EnvironmentLayers *layers() { return m_layers; }

private:
    Status openServices();
    Config m_config;
    quint16 m_port = 0;
    std::unique_ptr<Database> m_db;
    SecretStore *m_secrets = nullptr;
    ApiServer *m_api = nullptr;
    EnvironmentService *m_environments = nullptr;
    AgentService *m_agents = nullptr;
    VaultService *m_vaults = nullptr;
    SessionService *m_sessions = nullptr;
    EventLog *m_events = nullptr;
    SseHub *m_sse = nullptr;
    FileService *m_files = nullptr;
    RuntimeManager *m_runtime = nullptr;
    SandboxManager *m_sandboxes = nullptr;
    EnvironmentLayers *m_layers = nullptr;
    std::unique_ptr<SandboxTemplates> m_templates;
};

} // namespace viv
