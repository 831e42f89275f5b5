#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QStringList>

#include <optional>

namespace viv {

class Database;
class EventLog;
class SecretStore;
class AgentService;
class EnvironmentService;
class VaultService;
class FileService;
class SkillService;
class MemoryStoreService;

// Sessions: one run of an agent (a SNAPSHOT of one agent version, taken at creation) in an
// environment, its mounted resources, and its event log (EventLog, the source of truth for
// everything that happened). Until the runtime picks a session up it stays `idle`: events that
// clients send are validated, logged (echoed) and queued — no agent output is ever invented.
//
// Secrets: a `github_repository` resource's `authorization_token` (session create, resources
// add, and resources update = rotation) lives ONLY in the OS keychain (SecretStore): one entry per
// resource, keyed by the resource id (tokenKey()), holding the token's bytes. SQLite keeps only
// the non-secret marker `_token` in the resource document (internal, never returned: responses
// have exactly the official shape, which has no token field). The token is read at populate
// time (readResourceToken) so a rotation applies to the next clone. Ordering, as for vault
// credentials, so that no token outlives the row that owns it:
//   create / add:  keychain write → row insert (insert fails → the entry is removed again);
//   update:        keychain write → row update;
//   delete resource, delete session, archive session (an archived session never runs again,
//   so its tokens are purged and the marker cleared; the record is kept):
//                  keychain remove → row change.
// Without a keychain, requests that carry a token (and deleting/archiving a session holding
// one) answer 503 api_error and write nothing; token-free requests never touch the keychain.
// While a keychain job runs for a session, other resource changes, archive and delete of that
// session answer 409 instead of interleaving.
class SessionService : public QObject
{
    Q_OBJECT
public:
    SessionService(Database &db, EventLog &log, AgentService &agents, EnvironmentService &envs,
                   VaultService &vaults, FileService &files, SecretStore &secrets,
                   QObject *parent = nullptr);

    // Events one `POST /v1/sessions/{id}/events` may carry (README "Limits"); more is a 400
    // naming `events`, nothing written.
    static constexpr int kMaxEventsPerRequest = 100;

    // Skills the sessions' agents use: checked and their `latest` resolved at session start;
    // the runtime describes them to the model. Set once at start-up (ServicesModule).
    void setSkills(SkillService *skills) { m_skills = skills; }
    SkillService *skills() const { return m_skills; }
    // Memory stores a session may attach (`memory_store` resources, SessionMemoryResources.cpp).
    void setMemoryStores(MemoryStoreService *stores) { m_memoryStores = stores; }
    MemoryStoreService *memoryStores() const { return m_memoryStores; }
    // Memory stores are mounted only in the session's VM: the sandbox module turns this on when
    // built-in tools run in VMs. Off (VIVARIUM_SANDBOX_TOOLS=0, or no sandbox module), a
    // `memory_store` resource is refused with a 400 rather than accepted and never mounted.
    void setMemoryMounts(bool on) { m_memoryMounts = on; }
    static constexpr int kMaxMemoryStoresPerSession = 8;
    static constexpr int kMaxMemoryInstructions = 4096;
    AgentService &agents() { return m_agents; } // roster resolution (ThreadService, runtime threads)

    // The API's create: repository tokens go to the keychain first (asynchronous).
    void create(const QJsonObject &params, Callback<QJsonObject> done);
    // Synchronous create for in-process callers (GUI, tests): refuses `authorization_token`
    // (400), which needs the asynchronous keychain path above.
    Result<QJsonObject> create(const QJsonObject &params);
    Result<QJsonObject> retrieve(const QString &id);
    Result<QJsonObject> update(const QString &id, const QJsonObject &params);
    // Archive purges the session's repository tokens from the keychain first.
    void archive(const QString &id, Callback<QJsonObject> done);
    // Deletes the session, its resources (their keychain entries first) and its events:
    // {"id", "type": "session_deleted"}.
    void remove(const QString &id, Callback<QJsonObject> done);
    // Synchronous variants for in-process callers: a session holding a repository token (or
    // with a keychain job in flight) answers 409 — use the asynchronous ones.
    Result<QJsonObject> archive(const QString &id);
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

    // Session resources. Those that may touch the keychain answer through `done`.
    void addResource(const QString &sessionId, const QJsonObject &params, Callback<QJsonObject> done);
    Result<Page> listResources(const QString &sessionId, const PageRequest &page);
    Result<QJsonObject> retrieveResource(const QString &sessionId, const QString &resourceId);
    // Token rotation (`authorization_token`, github_repository resources only).
    void updateResource(const QString &sessionId, const QString &resourceId, const QJsonObject &params,
                        Callback<QJsonObject> done);
    void removeResource(const QString &sessionId, const QString &resourceId, Callback<QJsonObject> done);

    // The keychain entry holding a github_repository resource's token.
    static QString tokenKey(const QString &resourceId) { return resourceId; }
    // For the sandbox (WorkspaceResources, at clone time): the resource's current token, or an
    // empty array when it has none (or no longer exists). Never logged.
    void readResourceToken(const QString &resourceId, Callback<QByteArray> done);

    // POST /v1/sessions/{id}/events: every event is validated first; one bad event = 400 and
    // nothing is logged. Returns {"data": [echoed events]}.
    Result<QJsonObject> sendEvents(const QString &sessionId, const QJsonObject &params);
    // The same, answered through `done` once the events are durable. A request of only
    // `user.message` events goes through group commit (EventLog::appendGrouped): its commit is
    // shared with the appends that arrive meanwhile. Any other event is checked against what
    // the log says (pending tool calls, interrupts), so such a request first waits until every
    // earlier append is committed and is then appended on its own, as sendEvents() does.
    void sendEvents(const QString &sessionId, const QJsonObject &params, Callback<QJsonObject> done);

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
        qint64 listCostNano = 0;  // list cost of this step's tokens (services/PriceTable.h), nano-USD
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
    // Emitted once, right after the archive committed (the runtime stops the session's work).
    void archived(const QString &id);

private:
    // sendEvents' checks: the validated events, or the error to answer with.
    Result<QList<QJsonObject>> checkSendEvents(const QString &sessionId, const QJsonObject &params);
    Result<QJsonObject> resolveAgent(const QJsonValue &agent);
    static Result<QJsonObject> refuseUnrunnable(Result<QJsonObject> agent);
    // session_thread_id of a user event: set from the thread of the tool call it answers
    // (`target` of `targetTypes`), or checked to name a thread of the session.
    Status tagThread(const QString &sessionId, QJsonObject &event, const QString &target,
                     const QStringList &targetTypes, const QString &path);
    Result<QJsonObject> applyOverrides(QJsonObject snapshot, const QJsonObject &overrides);
    // Validates a resource param into its stored document (no id/timestamps yet). A
    // github_repository's `authorization_token` goes to `token` (never into the document).
    // A `memory_store` resource param (at session creation) into its document: the store must
    // exist and not be archived; its name and description are snapshotted; mount_path is
    // /mnt/memory/<memorymount::mountName(name, takenNames)>.
    Result<QJsonObject> memoryStoreResource(const QJsonObject &param, const QString &path,
                                            QStringList *takenNames);
    static Result<QJsonObject> resourceFromParams(const QJsonValue &param, const QString &path,
                                                  bool allowMemoryStore, QString *token);
    struct Prepared; // a validated create, ready to commit
    Result<Prepared> prepareCreate(const QJsonObject &params);
    Result<QJsonObject> commitCreate(const Prepared &p);
    // The stored resource document, `_` fields included.
    Result<QJsonObject> loadResource(const QString &sessionId, const QString &resourceId);
    // The session's resource documents as stored (`_` fields included), in order.
    QList<QJsonObject> storedResources(const QString &sessionId);
    // Ids of the session's resources whose token is in the keychain.
    QStringList tokenResources(const QString &sessionId);
    // The tokens' keychain entries as one batch (secrets/KeychainBatch.h: a failed write takes
    // back the ones written).
    void writeTokens(QList<QPair<QString, QByteArray>> tokens, Callback<Ok> done);
    void removeTokens(QStringList ids, Callback<Ok> done);
    // Not found / busy checks, then the session's repository tokens leave the keychain, then
    // `then` runs (archiveNow / removeNow) and answers `done`.
    void purgeTokensThen(const QString &id, std::function<Result<QJsonObject>()> then, Callback<QJsonObject> done);
    // The synchronous archive/remove: not found, busy, or holding tokens (async path only).
    std::optional<ApiError> refuseSynchronous(const QString &id, const QString &verb);
    Result<QJsonObject> archiveNow(const QString &id);
    Result<QJsonObject> removeNow(const QString &id);
    QString busyReason(const QString &sessionId) const;
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
    // A validated user.define_outcome, checked against the session (SessionOutcomeChecks.cpp):
    // one per request (`index` = how many came before it), none while another outcome is active,
    // and a file rubric resolved to its text.
    Result<QJsonObject> checkOutcome(const QString &sessionId, const QJsonObject &event, const QString &path,
                                     int index);
    Status storeSession(const QJsonObject &doc, bool insert);
    Status insertResource(const QString &sessionId, const QJsonObject &resource);
    Status touch(const QString &sessionId, const QString &now);

    Database &m_db;
    EventLog &m_log;
    AgentService &m_agents;
    EnvironmentService &m_envs;
    VaultService &m_vaults;
    FileService &m_files;
    SecretStore &m_secrets;
    SkillService *m_skills = nullptr;
    MemoryStoreService *m_memoryStores = nullptr;
    bool m_memoryMounts = false;
    DocTable m_sessions;
    DocTable m_resources;
    QSet<QString> m_busy; // sessions with a keychain job in flight
};

} // namespace viv
