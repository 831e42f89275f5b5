#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QJsonObject>
#include <QObject>
#include <QString>

#include <optional>

namespace viv {

class Database;

// Who made a memory change: the memory version's `created_by` / `redacted_by`. The API records
// `api_actor` (the `apikey_…` id of the key that authenticated the request, ApiRequest::apiKeyId);
// a session's memory mount records `session_actor` (its `sesn_…` id); the desktop app records
// `user_actor` (a `user_…` id of the person at the GUI).
struct MemoryActor
{
    enum class Type { Api, Session, User };
    Type type = Type::Api;
    QString id;

    static MemoryActor api(const QString &apiKeyId) { return {Type::Api, apiKeyId}; }
    static MemoryActor session(const QString &sessionId) { return {Type::Session, sessionId}; }
    static MemoryActor user(const QString &userId) { return {Type::User, userId}; }

    QString typeName() const; // "api_actor", "session_actor", "user_actor"
    // {"type":"api_actor","api_key_id":…} and the like.
    QJsonObject toJson() const;
};

// Whether a memory or memory version in a response carries its `content`.
enum class MemoryView { Basic, Full };

// Memory stores, their memories and the memories' versions (the SDK's
// `beta.memoryStores`, `.memories`, `.memoryVersions`).
//
// Every change to a memory (create, update, delete) writes the memory's new state and one
// immutable `memver_…` version with its actor in ONE SQLite transaction (WAL, synchronous=FULL):
// once a call returns, the change and its audit record are on disk together, or neither is.
// Only redaction changes a version afterwards: it clears content, hash, size and path and keeps
// the rest (who, when, which memory, what operation) plus who redacted it and when.
//
// Limits (README "Limits"; the SDK's documentation of each field): store name 1–255 characters
// without control characters, description ≤ 1,024, metadata ≤ 16 pairs; memory content
// ≤ 102,400 bytes of UTF-8; paths per validate::memoryPathProblem; at most kMaxMemoriesPerStore
// memories per store. An archived store is read-only for memories and its own fields; its
// memories can still be read and deleted, its versions redacted, the store deleted.
//
// Signals follow every committed change (after the commit), for the desktop app's Memory page
// and, later, a session's memory mount.
class MemoryStoreService : public QObject
{
    Q_OBJECT
public:
    explicit MemoryStoreService(Database &db, QObject *parent = nullptr);

    static constexpr int kMaxName = 255;
    static constexpr int kMaxDescription = 1024;
    static constexpr int kMaxContentBytes = 102400;
    static constexpr int kMaxMemoriesPerStore = 2000;
    // view=full caps a list page at this many items.
    static constexpr int kMaxFullViewPage = 20;

    // ---- stores ----
    Result<QJsonObject> createStore(const QJsonObject &params);
    Result<QJsonObject> retrieveStore(const QString &storeId);
    Result<QJsonObject> updateStore(const QString &storeId, const QJsonObject &params);
    // createdGte/createdLte: RFC 3339 bounds, empty for none.
    Result<Page> listStores(const PageRequest &page, bool includeArchived, const QString &createdGte,
                            const QString &createdLte);
    // Permanent; archiving an archived store answers it unchanged.
    Result<QJsonObject> archiveStore(const QString &storeId);
    // Removes the store with all its memories and versions.
    Result<QJsonObject> deleteStore(const QString &storeId);

    // ---- memories ----
    Result<QJsonObject> createMemory(const QString &storeId, const QJsonObject &params,
                                     MemoryView view, const MemoryActor &actor);
    Result<QJsonObject> retrieveMemory(const QString &storeId, const QString &memoryId,
                                       MemoryView view);
    // `content` and/or `path` (rename), with an optional `precondition`
    // {type: content_sha256, content_sha256}. A request that changes nothing succeeds without a
    // new version (even when its precondition names another hash, as the API documents).
    Result<QJsonObject> updateMemory(const QString &storeId, const QString &memoryId,
                                     const QJsonObject &params, MemoryView view,
                                     const MemoryActor &actor);
    struct ListQuery
    {
        QString pathPrefix; // empty: the whole store
        int depth = 0;      // 0: every memory below the prefix; n: deeper ones as memory_prefix items
        MemoryView view = MemoryView::Basic;
    };
    // Ordered by path (byte order of the UTF-8); the cursor is bound to the store and query.
    Result<Page> listMemories(const QString &storeId, const ListQuery &query, PageRequest page);
    // expectedSha256: empty for an unconditional delete.
    Result<QJsonObject> deleteMemory(const QString &storeId, const QString &memoryId,
                                     const QString &expectedSha256, const MemoryActor &actor);

    // For a session's memory mount: write `content` at `path`, creating the memory or modifying
    // the one there (no version when nothing changes), and remove the memory at `path`. Same
    // limits, same transaction rule, same signals.
    Result<QJsonObject> writeAtPath(const QString &storeId, const QString &path,
                                    const QString &content, const MemoryActor &actor);
    Result<QJsonObject> removeAtPath(const QString &storeId, const QString &path,
                                     const MemoryActor &actor);

    // ---- versions ----
    struct VersionQuery
    {
        QString memoryId;
        QString operation; // created | modified | deleted, empty for all
        QString sessionId;
        QString apiKeyId;
        QString serviceAccountId;
        QString createdGte;
        QString createdLte;
        MemoryView view = MemoryView::Basic;
    };
    // Newest first.
    Result<Page> listVersions(const QString &storeId, const VersionQuery &query, PageRequest page);
    Result<QJsonObject> retrieveVersion(const QString &storeId, const QString &versionId,
                                        MemoryView view);
    // Clears the version's content, hash, size and path; keeps the audit trail. The current
    // version of a live memory cannot be redacted (409): update or delete the memory first.
    // Redacting a redacted version answers it unchanged.
    Result<QJsonObject> redactVersion(const QString &storeId, const QString &versionId,
                                      const MemoryActor &actor);

    // A memory's current state as stored (one row of `memories`).
    struct MemoryRow
    {
        QString id;
        QString storeId;
        QString path;
        QString content;
        QString sha256;
        qint64 size = 0;
        QString versionId;
        QString createdAt;
        QString updatedAt;
        QJsonObject toJson(MemoryView view) const;
    };
    // Every memory of the store, ordered by path (a session's memory mount is written from it;
    // at most kMaxMemoriesPerStore rows).
    QList<MemoryRow> allMemories(const QString &storeId);

Q_SIGNALS:
    void storeChanged(const QString &storeId, const QJsonObject &store);
    void storeRemoved(const QString &storeId);
    // A memory was created or modified (memory: its document with content) or deleted.
    void memoryChanged(const QString &storeId, const QString &memoryId, const QJsonObject &memory);
    void memoryRemoved(const QString &storeId, const QString &memoryId);
    // A version was written or redacted (the version's document, content included).
    void versionChanged(const QString &storeId, const QJsonObject &version);

private:
    Result<QJsonObject> store(const QString &storeId);
    Result<QJsonObject> writableStore(const QString &storeId);
    std::optional<MemoryRow> memoryById(const QString &storeId, const QString &memoryId);
    std::optional<MemoryRow> memoryAtPath(const QString &storeId, const QString &path);
    // 409 memory_path_conflict_error when `path` or an ancestor/descendant of it is taken by a
    // memory other than `exceptId`.
    Status checkPathFree(const QString &storeId, const QString &path, const QString &exceptId);
    Status checkContent(const QString &content, const QString &field);
    // Inserts or updates the memory row and appends its version, inside the caller's transaction.
    Result<QJsonObject> writeVersion(const MemoryRow &row, const QString &operation,
                                     const MemoryActor &actor, bool insert);
    Result<QJsonObject> commitWrite(const QString &storeId, const MemoryRow &row,
                                    const QString &operation, const MemoryActor &actor, bool insert,
                                    MemoryView view);
    Result<QJsonObject> removeMemory(const MemoryRow &current, const QString &expectedSha256, const MemoryActor &actor);
    Result<QJsonObject> versionDoc(const QString &storeId, const QString &versionId);

    Database &m_db;
    DocTable m_stores;
    DocTable m_versions;
};

} // namespace viv
