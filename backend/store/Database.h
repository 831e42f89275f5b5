#pragma once

#include "core/Result.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QVariant>

#include <functional>
#include <memory>
#include <unordered_map>

namespace viv {

// One SQLite file through QtSql, owned by one thread (the backend thread).
//
// Durability: WAL journal with synchronous=FULL. In WAL mode NORMAL only risks the last
// transactions on power loss, but the API promises that an acknowledged event survives a crash
// of the machine, not just of the process, so every commit fsyncs the WAL. Cost measured in
// tests/bench (event append p50). Checkpoints run automatically (wal_autocheckpoint default).
class Database
{
public:
    Database() = default;
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    // Opens (creating if needed) the file and brings the schema to the latest version.
    Status open(const QString &path);
    void close();
    bool isOpen() const { return m_db.isOpen(); }
    QString path() const { return m_path; }

    int schemaVersion();
    static int latestSchemaVersion();

    QSqlQuery query(const QString &sql);
    // A prepared statement kept for the life of the connection (hot read paths). The returned
    // query is reset and ready for binding; do not keep it across another call with the same
    // SQL.
    QSqlQuery &cached(const QString &sql);
    // Runs a prepared statement; returns an error result (api_error) on failure.
    Status exec(QSqlQuery &q);
    Status exec(const QString &sql);

    // BEGIN IMMEDIATE: the write lock is taken at once, so a transaction never reads a snapshot
    // that another connection (the event log's group-commit writer) has moved past before it
    // writes. Runs the before-transaction hook first (see setBeforeTransaction).
    bool begin();
    bool commit();
    // Called by begin() before every transaction on this connection: EventLog installs the
    // group-commit drain here, so a transaction starts only after every event append submitted
    // before it is committed and published (one order of commits and of publications).
    void setBeforeTransaction(std::function<void()> fn) { m_beforeTransaction = std::move(fn); }
    // Why the last commit() failed, as the API error to answer with: `what` "failed to commit",
    // naming the cause (disk full, read-only) like exec() does.
    ApiError commitError(const QString &what) const;
    // A failed statement's error: SQLITE_FULL and SQLITE_READONLY are named (503 api_error),
    // anything else is a 500 with SQLite's text.
    static ApiError storageError(const QSqlError &error, const QString &context);
    void rollback();

    QSqlDatabase &handle() { return m_db; }

private:
    Status migrate();
    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_cache;
    QSqlDatabase m_db;
    QString m_connection;
    QSqlError m_commitError;
    QString m_path;
    std::function<void()> m_beforeTransaction;
};

// RAII transaction: rolls back unless commit() succeeded.
class Transaction
{
public:
    explicit Transaction(Database &db) : m_db(db), m_active(db.begin()) {}
    ~Transaction()
    {
        if (m_active)
            m_db.rollback();
    }
    bool active() const { return m_active; }
    bool commit()
    {
        if (!m_active)
            return false;
        m_active = false;
        return m_db.commit();
    }

private:
    Database &m_db;
    bool m_active;
};

} // namespace viv
