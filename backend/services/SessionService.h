#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

#include <optional>

namespace viv {

class Database;
class EventLog;
class AgentService;
class EnvironmentService;
class VaultService;
class FileService;

// Sessions: one run of an agent (a SNAPSHOT of one agent version, taken at creation) in an
// environment, its mounted resources, and its event log (EventLog, the source of truth for
// everything that happened). Until the runtime picks a session up it stays `idle`: events that
// clients send are validated, logged (echoed) and queued — no agent output is ever invented.
//
// Secrets: a `github_repository` resource's `authorization_token` is refused with a 400 on
// every path (create, add, update) — SQLite never holds it and no response returns it. Private
// repositories take their token from a vault credential attached with `vault_ids` (the
// keychain-backed store), which is where Vivarium keeps every secret.
class SessionService : public QObject
{
    Q_OBJECT
public:
    SessionService(Database &db, EventLog &log, AgentService &agents, EnvironmentService &envs,
                   VaultService &vaults, FileService &files, QObject *parent = nullptr);

    Result<QJsonObject> create(const QJsonObject &params);
    Result<QJsonObject> retrieve(const QString &id);
    Result<QJsonObject> update(const QString &id, const QJsonObject &params);
    Result<QJsonObject> archive(const QString &id);
    // Deletes the session, its resources and its events: {"id", "type": "session_deleted"}.
    Result<QJsonObject> remove(const QString &id);
    bool exists(const QString &id);

    struct ListQuery
    {
        PageRequest page;
        bool ascending = false; // `order`, default desc (newest first)
        QString agentId;
        std::optional<qint64> agentVersion; // only applies with agentId (as documented)
        QStringList statuses;
        bool includeArchived = false;
        QString createdGt, createdGte, createdLt, createdLte;
        QString deploymentId;  // Vivarium has no deployments: matches nothing
        QString memoryStoreId; // Vivarium has no memory stores: matches nothing
    };
    // Both directions: next_page and prev_page.
    Result<Page> list(const ListQuery &query);

    // Session resources.
    Result<QJsonObject> addResource(const QString &sessionId, const QJsonObject &params);
    Result<Page> listResources(const QString &sessionId, const PageRequest &page);
    Result<QJsonObject> retrieveResource(const QString &sessionId, const QString &resourceId);
    Result<QJsonObject> updateResource(const QString &sessionId, const QString &resourceId,
                                       const QJsonObject &params);
    Result<QJsonObject> removeResource(const QString &sessionId, const QString &resourceId);

    // POST /v1/sessions/{id}/events: every event is validated first; one bad event = 400 and
    // nothing is logged. Returns {"data": [echoed events]}.
    Result<QJsonObject> sendEvents(const QString &sessionId, const QJsonObject &params);

    static const QStringList &statuses();

    // ---- for the runtime (backend/runtime) ----
    // The runtime's single commit point: appends `events`, records the queued user events it
    // consumed (`processed`), and updates the session row (status, usage, stats.active_seconds)
    // in ONE transaction; only after the commit are the events published and changed() emitted.
    struct RuntimeCommit
    {
        QList<QJsonObject> events;
        QStringList processed;   // ids of queued user events consumed by this step
        QString status;          // new status; empty = unchanged
        qint64 inputTokens = 0;  // usage deltas
        qint64 outputTokens = 0;
        qint64 cacheReadInputTokens = 0;
        qint64 cacheCreationInputTokens = 0;
        double activeSeconds = 0; // time spent running, added to stats and usage
    };
    Result<QList<QJsonObject>> commitRuntime(const QString &sessionId, const RuntimeCommit &commit);
    // The stored session document (agent snapshot, vault_ids, environment_id, status).
    std::optional<QJsonObject> document(const QString &id) { return loadDoc(id); }
    // Ids of sessions in one of `statuses` (start-up recovery), oldest first.
    QStringList idsInStatus(const QStringList &statuses);
    // Ids of every non-archived, non-terminated session with queued work (start-up).
    QStringList allIds();

Q_SIGNALS:
    void changed(const QString &id, const QJsonObject &session);
    void removed(const QString &id);

private:
    Result<QJsonObject> resolveAgent(const QJsonValue &agent);
    Result<QJsonObject> applyOverrides(QJsonObject snapshot, const QJsonObject &overrides);
    // Validates a resource param into its stored document (no id/timestamps yet).
    static Result<QJsonObject> resourceFromParams(const QJsonValue &param, const QString &path,
                                                  bool allowMemoryStore);
    // Validates user events into their echo shape; `allowed` restricts the types.
    // A message naming the first `file_id` in `v` with no upload behind it, or empty.
    QString missingFile(const QJsonValue &v, const QString &path) const;
    Result<QList<QJsonObject>> validateEvents(const QString &sessionId, const QJsonObject &session,
                                              const QJsonArray &events, const QString &path,
                                              const QStringList &allowed);
    std::optional<QJsonObject> loadDoc(const QString &id);
    Result<QJsonObject> present(QJsonObject doc);
    QJsonArray resourcesOf(const QString &sessionId);
    QJsonArray outcomeEvaluations(const QString &sessionId);
    Status storeSession(const QJsonObject &doc, bool insert);
    Status insertResource(const QString &sessionId, const QJsonObject &resource);
    Status touch(const QString &sessionId, const QString &now);

    Database &m_db;
    EventLog &m_log;
    AgentService &m_agents;
    EnvironmentService &m_envs;
    VaultService &m_vaults;
    FileService &m_files;
    DocTable m_sessions;
    DocTable m_resources;
};

} // namespace viv
