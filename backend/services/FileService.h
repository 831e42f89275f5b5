#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

namespace viv {

class Database;

// Files (`client.beta.files`): uploaded blobs that sessions mount as `file` resources.
//
// Storage: metadata rows in the `files` table (schema v2), bytes in <dataDir>/files/<id>, one
// file per upload, mode 0600 in a 0700 directory. A blob is written with QSaveFile (temporary
// file, fsync, atomic rename, then the directory is fsync'd) BEFORE its row is committed, so a
// row never points at a missing or partial blob; a crash in between leaves an orphan blob that
// the start-up sweep removes. Delete removes the row first, then the blob.
//
// Expiry: `expires_in_seconds` must be within [kMinExpiresInSeconds, kMaxExpiresInSeconds]
// (one hour to ninety days, as the hosted API documents). An expired file reads as not found
// everywhere and is purged (row and blob) at start-up and whenever files are accessed.
class FileService : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kMinExpiresInSeconds = 3600;        // one hour
    static constexpr qint64 kMaxExpiresInSeconds = 90 * 86400;  // ninety days
    static constexpr int kMaxFilenameBytes = 255;                // UTF-8 bytes, after sanitising
    static constexpr int kMaxIdsFilter = 100;
    // Largest file: the server's request body limit (ApiServer::kMaxBodyBytes, 32 MiB).
    static constexpr qint64 kMaxFileBytes = 32 * 1024 * 1024;

    FileService(Database &db, QString filesDir, QObject *parent = nullptr);

    // Stores `bytes` as a new file. `filename` is sanitised (see sanitizeFilename); `mimeType`
    // empty means application/octet-stream.
    Result<QJsonObject> upload(const QString &filename, const QString &mimeType,
                               const QByteArray &bytes,
                               std::optional<qint64> expiresInSeconds = std::nullopt);
    Result<QJsonObject> retrieve(const QString &id);
    // Newest first. `ids` (at most 100 after de-duplication) restricts the result to those
    // files, in one page; `scopeId` restricts it to files scoped to that resource.
    Result<Page> list(const PageRequest &page, const QStringList &ids = {},
                      const QString &scopeId = {});
    // The metadata and the stored bytes.
    Result<QPair<QJsonObject, QByteArray>> content(const QString &id);
    // A file the agent left in its session's outputs folder (sandbox/SessionOutputs), stored with
    // `scope: {type: "session", id: sessionId}`: deduplicated by content, so when the session
    // already has a live file of this name with these bytes (sha256) that file is returned and
    // nothing is stored (`stored` false). A changed file becomes a new file beside the earlier
    // one (files are immutable; a client may hold the older id). Empty files are kept (the agent
    // made them); the 32 MiB limit applies.
    struct Captured
    {
        QJsonObject file;
        bool stored = false;
    };
    Result<Captured> captureSessionOutput(const QString &sessionId, const QString &filename,
                                          const QByteArray &bytes);
    // Whether captureSessionOutput() would find these bytes (by their sha256, hex) stored already.
    bool hasSessionOutput(const QString &sessionId, const QString &filename, const QString &sha256);
    Result<QJsonObject> remove(const QString &id);
    // True when a live (not deleted, not expired) file has this id.
    bool exists(const QString &id);

    const QString &filesDir() const { return m_dir; }
    QString blobPath(const QString &id) const;

    // Purges expired files (rows, then blobs). Returns how many were purged.
    int purgeExpired();

    // Keeps only the final path component (both `/` and `\` separate), drops control
    // characters and surrounding whitespace; an empty result becomes "unnamed" plus the MIME
    // type's usual extension. Errors when the result is longer than 255 UTF-8 bytes.
    static Result<QString> sanitizeFilename(const QString &raw, const QString &mimeType);
    // Validates a MIME type ("type/subtype" plus optional parameters) and normalises the
    // type/subtype to lower case. Empty means application/octet-stream.
    static Result<QString> normalizeMimeType(const QString &raw);

Q_SIGNALS:
    void added(const QString &id, const QJsonObject &file);
    void removed(const QString &id);

private:
    // Removes blobs without a row (a crash between blob write and row commit) and stale
    // QSaveFile temporaries. Start-up only.
    void sweepOrphans();
    Status writeBlob(const QString &id, const QByteArray &bytes);
    std::optional<QJsonObject> liveRow(const QString &id);
    std::optional<QJsonObject> findSessionOutput(const QString &sessionId, const QString &name,
                                                 const QString &sha256);
    // Writes the blob, then the row (with its sha256); emits added().
    Result<QJsonObject> store(const QString &filename, const QString &mime, const QByteArray &bytes,
                              std::optional<qint64> expiresInSeconds, const QJsonValue &scope);

    Database &m_db;
    DocTable m_table;
    QString m_dir;
};

} // namespace viv
