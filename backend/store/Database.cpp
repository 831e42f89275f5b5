#include "Database.h"

#include <QAtomicInt>
#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSqlError>

#include <vector>

Q_LOGGING_CATEGORY(lcStore, "vivarium.store")

namespace viv {

namespace {

using Migration = std::vector<const char *>;

// Versioned migrations: entry N brings the schema from version N to N+1. Never edit a released
// entry; append a new one.
const std::vector<Migration> kMigrations = {
    // v1: resources and the append-only event log.
    {
        R"SQL(CREATE TABLE agents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE TABLE agent_versions (
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (agent_id, version)
) WITHOUT ROWID)SQL",
        R"SQL(CREATE TABLE environments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE TABLE vaults (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE TABLE credentials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    vault_id TEXT NOT NULL REFERENCES vaults(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE INDEX credentials_vault ON credentials(vault_id, seq))SQL",
        R"SQL(CREATE TABLE sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    agent_id TEXT NOT NULL,
    agent_version INTEGER NOT NULL,
    environment_id TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE INDEX sessions_agent ON sessions(agent_id, agent_version))SQL",
        R"SQL(CREATE INDEX sessions_status ON sessions(status))SQL",
        R"SQL(CREATE TABLE session_resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE INDEX session_resources_session ON session_resources(session_id, seq))SQL",
        R"SQL(CREATE TABLE events (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID)SQL",
        R"SQL(CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END)SQL",
        R"SQL(CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID)SQL",
    },
    // v2: uploaded files (metadata; the bytes live in <dataDir>/files/<id>).
    {
        R"SQL(CREATE TABLE files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    expires_at TEXT,
    sha256 TEXT NOT NULL,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE INDEX files_expires ON files(expires_at) WHERE expires_at IS NOT NULL)SQL",
    },
    // v3: when the runtime consumed a queued user event (the log itself is append-only, so a
    // queued event's processed_at lives here and is overlaid when the event is read); at_seq is
    // the log position where it was consumed (its place in the conversation).
    {
        R"SQL(CREATE TABLE event_processed (
    event_id TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    at_seq INTEGER NOT NULL
) WITHOUT ROWID)SQL",
        R"SQL(CREATE INDEX event_processed_session ON event_processed(session_id))SQL",
    },
    // v4: a session's events of given types (EventLog::ofTypes — the outcome evaluations every
    // session document shows — and pending()) without reading all of the session's events:
    // without it every session update cost a scan of its whole log.
    {
        R"SQL(CREATE INDEX events_session_type ON events(session_id, type, seq))SQL",
    },
    // v5: the first answer to a write that carried an Idempotency-Key, replayed to its retries
    // until expires_ms (IdempotencyStore). scope is the SHA-256 of the API key, fingerprint an
    // HMAC of the request's query and body: neither the key nor a request body is stored.
    {
        R"SQL(CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, method, path, key)
) WITHOUT ROWID)SQL",
        R"SQL(CREATE INDEX idempotency_keys_expires ON idempotency_keys(expires_ms))SQL",
    },
    // v6: skills (SkillService). A version's files live content-addressed under
    // <dataDir>/skills/blobs/<sha256>; `manifest` lists them ([{path, sha256, size}], paths
    // relative to the skill's folder). Version ids are unique across skills.
    {
        R"SQL(CREATE TABLE skills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE TABLE skill_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    skill_id TEXT NOT NULL REFERENCES skills(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at TEXT NOT NULL,
    manifest TEXT NOT NULL,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE INDEX skill_versions_skill ON skill_versions(skill_id, seq))SQL",
    },
    // v7: memory stores (MemoryStoreService). A memory is one row (its current state, content
    // included); every change to it also appends an immutable row to memory_versions, in the
    // same transaction. Versions outlive their memory (a `deleted` version records the delete)
    // and go only with their store. actor_type/actor_id are the version's `created_by`, kept
    // as columns for the list filters (session_id, api_key_id, …).
    {
        R"SQL(CREATE TABLE memory_stores (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE TABLE memories (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES memory_stores(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    content TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    content_size_bytes INTEGER NOT NULL,
    version_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (store_id, path)
) WITHOUT ROWID)SQL",
        R"SQL(CREATE TABLE memory_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    store_id TEXT NOT NULL REFERENCES memory_stores(id) ON DELETE CASCADE,
    memory_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    created_at TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    redacted_at TEXT,
    doc TEXT NOT NULL
))SQL",
        R"SQL(CREATE INDEX memory_versions_store ON memory_versions(store_id, seq))SQL",
        R"SQL(CREATE INDEX memory_versions_memory ON memory_versions(memory_id, seq))SQL",
    },
    // v8: context compactions (runtime/Compaction.h): the summary that replaces the older part
    // of a session's conversation in the model's view. event_id is the
    // agent.thread_context_compacted event that announces it (written after this row: a row whose
    // event never made it to the log is ignored); boundary is the conversation position
    // (Compaction.h) up to which the summary covers. The log keeps every original event.
    {
        R"SQL(CREATE TABLE context_compactions (
    event_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    boundary REAL NOT NULL,
    summary TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID)SQL",
        R"SQL(CREATE INDEX context_compactions_session ON context_compactions(session_id, created_at))SQL",
    },
};

QAtomicInt s_connectionCounter;

} // namespace

Database::~Database()
{
    close();
}

int Database::latestSchemaVersion()
{
    return int(kMigrations.size());
}

Status Database::open(const QString &path)
{
    m_path = path;
    QDir().mkpath(QFileInfo(path).absolutePath());
    m_connection = QStringLiteral("vivarium-%1").arg(s_connectionCounter.fetchAndAddRelaxed(1));
    m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    m_db.setDatabaseName(path);
    m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!m_db.open())
        return ApiError::internal(QStringLiteral("cannot open database %1: %2")
                                      .arg(path, m_db.lastError().text()));
    for (const char *pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                               "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
        if (auto s = exec(QString::fromLatin1(pragma)); !s)
            return s;
    }
    return migrate();
}

void Database::close()
{
    if (m_connection.isEmpty())
        return;
    m_cache.clear();
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connection);
    m_connection.clear();
}

int Database::schemaVersion()
{
    QSqlQuery q(m_db);
    if (q.exec(QStringLiteral("PRAGMA user_version")) && q.next())
        return q.value(0).toInt();
    return -1;
}

Status Database::migrate()
{
    const int current = schemaVersion();
    if (current > latestSchemaVersion())
        return ApiError::internal(
            QStringLiteral("database %1 has schema version %2, newer than this build knows (%3)")
                .arg(m_path)
                .arg(current)
                .arg(latestSchemaVersion()));
    for (int v = current; v < latestSchemaVersion(); ++v) {
        Transaction tx(*this);
        for (const char *statement : kMigrations[size_t(v)]) {
            if (auto s = exec(QString::fromUtf8(statement)); !s)
                return s;
        }
        if (auto s = exec(QStringLiteral("PRAGMA user_version=%1").arg(v + 1)); !s)
            return s;
        if (!tx.commit())
            return ApiError::internal(QStringLiteral("migration to schema %1 failed to commit")
                                          .arg(v + 1));
        qCInfo(lcStore) << "migrated" << m_path << "to schema version" << v + 1;
    }
    return Ok{};
}

QSqlQuery Database::query(const QString &sql)
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    if (!q.prepare(sql))
        qCCritical(lcStore) << "prepare failed:" << q.lastError().text() << sql;
    return q;
}

QSqlQuery &Database::cached(const QString &sql)
{
    auto it = m_cache.find(sql);
    if (it == m_cache.end()) {
        auto q = std::make_unique<QSqlQuery>(m_db);
        q->setForwardOnly(true);
        if (!q->prepare(sql))
            qCCritical(lcStore) << "prepare failed:" << q->lastError().text() << sql;
        it = m_cache.emplace(sql, std::move(q)).first;
    } else {
        it->second->finish();
    }
    return *it->second;
}

Status Database::exec(QSqlQuery &q)
{
    if (!q.exec()) {
        qCWarning(lcStore) << "query failed:" << q.lastError().text();
        return storageError(q.lastError(), QStringLiteral("database error"));
    }
    return Ok{};
}

Status Database::exec(const QString &sql)
{
    QSqlQuery q(m_db);
    if (!q.exec(sql)) {
        qCWarning(lcStore) << "statement failed:" << q.lastError().text();
        return storageError(q.lastError(), QStringLiteral("database error"));
    }
    return Ok{};
}

bool Database::begin()
{
    if (m_beforeTransaction)
        m_beforeTransaction();
    // QSQLiteDriver keeps no transaction state of its own: COMMIT/ROLLBACK go through
    // QSqlDatabase as before.
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("BEGIN IMMEDIATE"))) {
        qCWarning(lcStore) << "begin failed:" << q.lastError().text();
        return false;
    }
    return true;
}

bool Database::commit()
{
    if (m_db.commit()) {
        m_commitError = {};
        return true;
    }
    m_commitError = m_db.lastError();
    qCWarning(lcStore) << "commit failed:" << m_commitError.text();
    return false;
}

ApiError Database::commitError(const QString &what) const
{
    return storageError(m_commitError, what + QStringLiteral(" failed to commit"));
}

ApiError Database::storageError(const QSqlError &error, const QString &context)
{
    // Qt reports SQLite's (extended) result code; the primary code is its low byte.
    bool ok = false;
    const int code = error.nativeErrorCode().toInt(&ok) & 0xff;
    if (ok && code == 13) // SQLITE_FULL
        return ApiError::unavailable(context + QStringLiteral(": disk full (SQLITE_FULL): free space on the "
                                                              "volume holding the data directory"));
    if (ok && code == 8) // SQLITE_READONLY
        return ApiError::unavailable(context + QStringLiteral(": the database is read-only (SQLITE_READONLY): "
                                                              "check the data directory's permissions and mount"));
    return ApiError::internal(context + QStringLiteral(": ") + error.text());
}

void Database::rollback()
{
    m_db.rollback();
}

} // namespace viv
