#pragma once

#include "SandboxManager.h"
#include "core/Result.h"

#include <QJsonArray>
#include <QHash>
#include <QObject>

namespace viv {

class EnvironmentLayers;
class EnvironmentService;
class EventLog;
class SandboxProgress;
class RuntimeManager;
class SessionService;
class CredentialBroker;
class WorkspaceResources;

// What happens around a session's sandbox claim (SandboxToolExecutor calls it):
//  - prepare(): what the session's VM boots from. An environment with packages boots from its
//    package layer (EnvironmentLayers builds it on first use). When the layer cannot be built
//    the session cannot run tools: it ends with a session.error naming the build log
//    (RuntimeManager::terminateSession), and the claim fails.
//  - populate(): the session's resources that its workspace does not have yet are put in
//    (WorkspaceResources): all of them when a claim created the workspace, later the ones added
//    while the session lives (at its next claim, or at once when its VM runs). Which resources a
//    workspace got is recorded next to its disk (`<workspace disk>.resources`, one id per line);
//    a workspace from before that record counts as having the resources it was created with.
//    Deleting a resource leaves its files in the workspace. A repository's authorization token
//    is read (SessionService::readResourceToken, keychain) when its clone starts, never kept.
//    A resource that fails is reported
//    once as a session.error
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
    // With a broker, a `limited` session's spec carries the `environment_variable` credentials
    // of its `vault_ids` (services/CredentialBroker.h; secrets in memory only) for the egress proxy.
    void setCredentials(CredentialBroker *credentials) { m_credentials = credentials; }
    // prepare() names the session's package layer to it, and a layer that cannot be had.
    void setProgress(SandboxProgress *progress) { m_progress = progress; }
    // `record` is the workspace's record file; `newWorkspace` when the claim created it.
    void populate(const QString &sessionId, const QString &sandboxId, bool newWorkspace, const QString &record,
                  std::function<void()> done);
    bool isPopulating(const QString &sessionId) const { return m_populating.contains(sessionId); }
    // For the memory mounts (bind mounts, read_only locks): set once at start-up (SandboxModule).
    void setSandboxes(SandboxManager *sandboxes) { m_sandboxes = sandboxes; }
    // Whether the session document lists a resource that `record` does not have.
    static bool hasNewResources(const QJsonObject &session, const QString &record);

private:
    SessionService &m_sessions;
    EnvironmentService &m_environments;
    EventLog &m_log;
    RuntimeManager &m_runtime;
    EnvironmentLayers &m_layers;
    WorkspaceResources &m_resources;
    CredentialBroker *m_credentials = nullptr;
    SandboxProgress *m_progress = nullptr;
    // populate() runs one at a time per session; a call while one runs is served after it.
    QHash<QString, QList<std::function<void()>>> m_populating;
    void populateNow(const QString &sessionId, const QString &sandboxId, bool newWorkspace, const QString &record,
                     std::function<void()> finish);
    void populateResources(const QString &sessionId, const QString &sandboxId, bool newWorkspace, const QString &record,
                           QJsonArray all, std::function<void()> finish);
    void mountMemory(const QString &sessionId, const QString &sandboxId, const QJsonArray &stores, bool readOnlyPass,
                     std::function<void()> then);
    SandboxManager *m_sandboxes = nullptr;
    void addCredentials(const QString &sessionId, const QJsonArray &vaultIds, SandboxManager::SessionSpec spec,
                        Callback<SandboxManager::SessionSpec> done);
};

} // namespace viv
