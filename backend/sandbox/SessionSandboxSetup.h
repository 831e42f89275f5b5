#pragma once

#include "SandboxManager.h"
#include "core/Result.h"

#include <QJsonArray>
#include <QObject>

namespace viv {

class EnvironmentLayers;
class EnvironmentService;
class EventLog;
class RuntimeManager;
class SessionService;
class VaultService;
class WorkspaceResources;

// What happens around a session's sandbox claim (SandboxToolExecutor calls it):
//  - prepare(): what the session's VM boots from. An environment with packages boots from its
//    package layer (EnvironmentLayers builds it on first use). When the layer cannot be built
//    the session cannot run tools: it ends with a session.error naming the build log
//    (RuntimeManager::terminateSession), and the claim fails.
//  - populate(): once, when a claim created the session's workspace, the session's resources
//    are put in (WorkspaceResources). A resource that fails is reported as a session.error
//    with the official error type (repository_not_found_error, repository_clone_error,
//    repository_checkout_error, unknown_error) and retry_status `retrying`: the session goes on
//    without it, as the API documents.
class SessionSandboxSetup : public QObject
{
    Q_OBJECT
public:
    SessionSandboxSetup(SessionService &sessions, EnvironmentService &environments, EventLog &log,
                        RuntimeManager &runtime, EnvironmentLayers &layers, WorkspaceResources &resources,
                        QObject *parent = nullptr);

    void prepare(const QString &sessionId, Callback<SandboxManager::SessionSpec> done);
    // With vaults, a `limited` session's spec carries the `environment_variable` credentials of
    // its `vault_ids` (secrets read from the keychain, in memory only) for the egress proxy.
    void setVaults(VaultService *vaults) { m_vaults = vaults; }
    void populate(const QString &sessionId, const QString &sandboxId, std::function<void()> done);

private:
    SessionService &m_sessions;
    EnvironmentService &m_environments;
    EventLog &m_log;
    RuntimeManager &m_runtime;
    EnvironmentLayers &m_layers;
    WorkspaceResources &m_resources;
    VaultService *m_vaults = nullptr;
    void addCredentials(const QString &sessionId, const QJsonArray &vaultIds, SandboxManager::SessionSpec spec,
                        Callback<SandboxManager::SessionSpec> done);
};

} // namespace viv
