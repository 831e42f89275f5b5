#pragma once

// Internal to services/: helpers shared by MemoryStoreService.cpp (stores, memory writes) and
// MemoryVersions.cpp (listing, versions, redaction).

#include "MemoryStoreService.h"
#include "core/Result.h"

#include <QLoggingCategory>
#include <QSqlQuery>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcMemory)

namespace viv {

class Database;

namespace memory_internal {

inline QString k(const char *s)
{
    return QString::fromLatin1(s);
}

// The columns of a `memories` row in the order memoryFromQuery reads them.
inline const QString kMemoryColumns = QStringLiteral(
    "id, store_id, path, content, content_sha256, content_size_bytes, version_id, created_at, updated_at");
// The current row of a query that selected kMemoryColumns (or the same columns, in that order).
MemoryStoreService::MemoryRow memoryFromQuery(const QSqlQuery &q);

// Lowercase hex SHA-256 of the content's UTF-8 bytes (the API's content_sha256: no normalisation).
QString sha256Hex(const QString &content);
bool isSha256Hex(const QString &s);
// An RFC 3339 list bound (`created_at[gte]`…) as stored timestamps compare, or a 400 naming it.

// SQLite's secure_delete for the scope of a memory mutation: the bytes of content that an update,
// delete or redaction drops are overwritten in the file instead of lingering in freed pages.
// The connection's previous setting is restored afterwards.
class SecureDelete
{
public:
    explicit SecureDelete(Database &db);
    ~SecureDelete();
    SecureDelete(const SecureDelete &) = delete;
    SecureDelete &operator=(const SecureDelete &) = delete;

private:
    Database &m_db;
    int m_previous = -1; // 0 off, 1 on, 2 fast; -1 unknown
};

} // namespace memory_internal
} // namespace viv
