#include "FileService.h"
#include "ListFilters.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QMimeDatabase>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>

#include <fcntl.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcFiles, "vivarium.files")

namespace viv {

namespace {

const QString kOctetStream = QStringLiteral("application/octet-stream");

bool isControl(QChar c)
{
    const char16_t u = c.unicode();
    return u < 0x20 || (u >= 0x7f && u <= 0x9f) || u == 0x2028 || u == 0x2029;
}

// Makes a rename inside `dir` durable: fsync of the directory itself (POSIX).
bool syncDirectory(const QString &dir)
{
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

} // namespace

FileService::FileService(Database &db, QString filesDir, QObject *parent)
    : QObject(parent), m_db(db), m_table(db, QStringLiteral("files")), m_dir(std::move(filesDir))
{
    if (!QDir().mkpath(m_dir))
        qCWarning(lcFiles) << "cannot create files directory" << m_dir;
    QFile::setPermissions(m_dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    purgeExpired();
    sweepOrphans();
}

QString FileService::blobPath(const QString &id) const
{
    return m_dir + u'/' + id;
}

Result<QString> FileService::normalizeMimeType(const QString &raw)
{
    const QString t = raw.trimmed();
    if (t.isEmpty())
        return kOctetStream;
    // RFC 6838 restricted names for type and subtype; parameters are kept as sent.
    static const QRegularExpression re(QStringLiteral(
        "^([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})/([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})(\\s*;.*)?$"));
    const auto m = re.match(t);
    bool control = false;
    for (QChar c : t)
        control = control || isControl(c);
    if (!m.hasMatch() || control || t.size() > 255)
        return ApiError::invalid(
            QStringLiteral("the file's content type `%1` is not a valid MIME type (type/subtype)")
                .arg(t.left(100)));
    return QString(m.captured(1).toLower() + u'/' + m.captured(2).toLower() + m.captured(3));
}

Result<QString> FileService::sanitizeFilename(const QString &raw, const QString &mimeType)
{
    QString name = raw;
    const qsizetype cut = std::max(name.lastIndexOf(u'/'), name.lastIndexOf(u'\\'));
    if (cut >= 0)
        name = name.mid(cut + 1);
    name.removeIf(isControl);
    name = name.trimmed();
    if (name.isEmpty() || name == u"." || name == u"..") {
        name = QStringLiteral("unnamed");
        const QString essence = mimeType.section(u';', 0, 0).trimmed();
        const QMimeType mt = QMimeDatabase().mimeTypeForName(essence);
        if (mt.isValid() && !mt.preferredSuffix().isEmpty())
            name += QString(u'.' + mt.preferredSuffix());
    }
    const qsizetype bytes = name.toUtf8().size();
    if (bytes > kMaxFilenameBytes)
        return ApiError::invalid(QStringLiteral("filename is %1 bytes long (UTF-8); the limit is %2")
                                     .arg(bytes)
                                     .arg(kMaxFilenameBytes));
    return name;
}

Status FileService::writeBlob(const QString &id, const QByteArray &bytes)
{
    if (!QDir().mkpath(m_dir))
        return ApiError::internal(QStringLiteral("cannot create the files directory"));
    QSaveFile f(blobPath(id));
    if (!f.open(QIODevice::WriteOnly))
        return ApiError::internal(QStringLiteral("cannot store the file: %1").arg(f.errorString()));
    // Owner-only before any byte is written (the temporary file is renamed into place).
    if (!f.setPermissions(QFile::ReadOwner | QFile::WriteOwner)) {
        f.cancelWriting();
        return ApiError::internal(QStringLiteral("cannot restrict the stored file's permissions"));
    }
    if (f.write(bytes) != bytes.size()) {
        const QString err = f.errorString();
        f.cancelWriting();
        return ApiError::internal(QStringLiteral("cannot store the file: %1").arg(err));
    }
    // commit() flushes, fsyncs and atomically renames; then make the rename itself durable.
    if (!f.commit())
        return ApiError::internal(QStringLiteral("cannot store the file: %1").arg(f.errorString()));
    if (!syncDirectory(m_dir))
        qCWarning(lcFiles) << "fsync of" << m_dir << "failed";
    return Ok{};
}

Result<QJsonObject> FileService::upload(const QString &filename, const QString &mimeType,
                                        const QByteArray &bytes,
                                        std::optional<qint64> expiresInSeconds)
{
    auto mime = normalizeMimeType(mimeType);
    if (!mime)
        return mime.error();
    auto name = sanitizeFilename(filename, *mime);
    if (!name)
        return name.error();
    if (bytes.isEmpty())
        return ApiError::invalid(QStringLiteral("the uploaded file is empty (0 bytes)"));
    if (bytes.size() > kMaxFileBytes)
        return ApiError::invalid(QStringLiteral("the file is %1 bytes; the limit is %2 bytes (32 MiB)")
                                     .arg(bytes.size())
                                     .arg(kMaxFileBytes));
    if (expiresInSeconds
        && (*expiresInSeconds < kMinExpiresInSeconds || *expiresInSeconds > kMaxExpiresInSeconds))
        return ApiError::invalid(
            QStringLiteral("`expires_in_seconds` must be between %1 (one hour) and %2 (ninety days)")
                .arg(kMinExpiresInSeconds)
                .arg(kMaxExpiresInSeconds));

    return store(*name, *mime, bytes, expiresInSeconds, QJsonValue::Null);
}

Result<QJsonObject> FileService::store(const QString &filename, const QString &mime, const QByteArray &bytes,
                                       std::optional<qint64> expiresInSeconds, const QJsonValue &scope)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QString created = clock::toIso(now);
    const QString id = ids::make(u"file");
    const QJsonValue expires = expiresInSeconds
                                   ? QJsonValue(clock::toIso(now.addSecs(*expiresInSeconds)))
                                   : QJsonValue(QJsonValue::Null);
    const QJsonObject meta{{QStringLiteral("id"), id},
                           {QStringLiteral("type"), QStringLiteral("file")},
                           {QStringLiteral("filename"), filename},
                           {QStringLiteral("mime_type"), mime},
                           {QStringLiteral("size_bytes"), qint64(bytes.size())},
                           {QStringLiteral("created_at"), created},
                           {QStringLiteral("downloadable"), true},
                           {QStringLiteral("expires_at"), expires},
                           {QStringLiteral("scope"), scope}};

    // Bytes first, durably; only then the row that makes them visible.
    if (auto s = writeBlob(id, bytes); !s)
        return s.error();
    const QString sha256 =
        QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    const Status inserted = m_table.insert(
        {{QStringLiteral("id"), id},
         {QStringLiteral("created_at"), created},
         {QStringLiteral("updated_at"), created},
         {QStringLiteral("archived_at"), QVariant()},
         {QStringLiteral("expires_at"), expires.isNull() ? QVariant() : QVariant(expires.toString())},
         {QStringLiteral("sha256"), sha256},
         {QStringLiteral("doc"), serializeDoc(meta)}});
    if (!inserted) {
        QFile::remove(blobPath(id));
        return inserted.error();
    }
    Q_EMIT added(id, meta);
    return meta;
}

std::optional<QJsonObject> FileService::findSessionOutput(const QString &sessionId, const QString &name,
                                                          const QString &sha256)
{
    QSqlQuery q = m_db.query(QStringLiteral(
        "SELECT doc FROM files WHERE sha256 = ? AND json_extract(doc, '$.scope.type') = 'session' "
        "AND json_extract(doc, '$.scope.id') = ? AND json_extract(doc, '$.filename') = ? "
        "AND (expires_at IS NULL OR expires_at > ?) LIMIT 1"));
    q.addBindValue(sha256);
    q.addBindValue(sessionId);
    q.addBindValue(name);
    q.addBindValue(clock::nowIso());
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    return parseDoc(q.value(0).toString());
}

bool FileService::hasSessionOutput(const QString &sessionId, const QString &filename, const QString &sha256)
{
    auto name = sanitizeFilename(filename, kOctetStream);
    return name && findSessionOutput(sessionId, *name, sha256.toLower()).has_value();
}

Result<FileService::Captured> FileService::captureSessionOutput(const QString &sessionId, const QString &filename,
                                                               const QByteArray &bytes)
{
    const QString mime = [&] {
        const QMimeType mt = QMimeDatabase().mimeTypeForFile(filename, QMimeDatabase::MatchExtension);
        return mt.isValid() && !mt.isDefault() ? mt.name() : kOctetStream;
    }();
    auto name = sanitizeFilename(filename, mime);
    if (!name)
        return name.error();
    if (bytes.size() > kMaxFileBytes)
        return ApiError::invalid(QStringLiteral("the file is %1 bytes; the limit is %2 bytes (32 MiB)")
                                     .arg(bytes.size())
                                     .arg(kMaxFileBytes));
    const QString sha256 =
        QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    if (auto found = findSessionOutput(sessionId, *name, sha256))
        return Captured{*found, false};
    const QJsonObject scope{{QStringLiteral("type"), QStringLiteral("session")}, {QStringLiteral("id"), sessionId}};
    auto stored = store(*name, mime, bytes, std::nullopt, scope);
    if (!stored)
        return stored.error();
    return Captured{*stored, true};
}

std::optional<QJsonObject> FileService::liveRow(const QString &id)
{
    if (!ids::looksLike(u"file", id))
        return std::nullopt;
    QSqlQuery q = m_db.query(QStringLiteral("SELECT doc, expires_at FROM files WHERE id = ?"));
    q.addBindValue(id);
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    const QVariant expires = q.value(1);
    if (!expires.isNull() && expires.toString() <= clock::nowIso()) {
        q.finish();
        purgeExpired();
        return std::nullopt;
    }
    return parseDoc(q.value(0).toString());
}

int FileService::purgeExpired()
{
    const QString now = clock::nowIso();
    QSqlQuery q = m_db.query(
        QStringLiteral("SELECT id FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?"));
    q.addBindValue(now);
    if (!m_db.exec(q))
        return 0;
    QStringList expired;
    while (q.next())
        expired << q.value(0).toString();
    q.finish();
    if (expired.isEmpty())
        return 0;
    QSqlQuery del = m_db.query(
        QStringLiteral("DELETE FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?"));
    del.addBindValue(now);
    if (!m_db.exec(del))
        return 0;
    for (const QString &id : std::as_const(expired)) {
        if (!QFile::remove(blobPath(id)) && QFile::exists(blobPath(id)))
            qCWarning(lcFiles) << "cannot remove expired blob" << id;
        Q_EMIT removed(id);
    }
    qCInfo(lcFiles) << "purged" << expired.size() << "expired file(s)";
    return int(expired.size());
}

void FileService::sweepOrphans()
{
    QSqlQuery q = m_db.query(QStringLiteral("SELECT id FROM files"));
    if (!m_db.exec(q))
        return;
    QSet<QString> known;
    while (q.next())
        known.insert(q.value(0).toString());
    QDir dir(m_dir);
    const QStringList entries = dir.entryList(QDir::Files | QDir::Hidden | QDir::System);
    for (const QString &name : entries) {
        if (known.contains(name))
            continue;
        if (dir.remove(name))
            qCInfo(lcFiles) << "removed orphan blob" << name;
    }
}

Result<QJsonObject> FileService::retrieve(const QString &id)
{
    if (auto row = liveRow(id))
        return *row;
    return ApiError::notFound(QStringLiteral("file %1 not found").arg(id));
}

bool FileService::exists(const QString &id)
{
    return liveRow(id).has_value();
}

Result<Page> FileService::list(const PageRequest &page, const QStringList &ids,
                               const QString &scopeId)
{
    purgeExpired();
    QList<DocTable::Filter> filters{
        {QStringLiteral("(expires_at IS NULL OR expires_at > ?)"), {clock::nowIso()}}};
    if (!scopeId.isEmpty())
        filters.append({QStringLiteral("json_extract(doc, '$.scope.id') = ?"), {scopeId}});
    if (ids.isEmpty())
        return m_table.list(page, filters);

    QStringList unique;
    for (const QString &id : ids) {
        if (!unique.contains(id))
            unique << id;
    }
    if (unique.size() > kMaxIdsFilter)
        return ApiError::invalid(QStringLiteral("`ids` takes at most %1 distinct ids (got %2)")
                                     .arg(kMaxIdsFilter)
                                     .arg(unique.size()));
    filters.append(listfilters::anyOf(QStringLiteral("id"), unique));
    PageRequest one = page;
    one.page.clear();
    one.limit = int(unique.size());
    auto result = m_table.list(one, filters);
    if (result) {
        result->nextPage.clear(); // an ids query is always a single page
        result->prevPage.clear();
    }
    return result;
}

Result<QPair<QJsonObject, QByteArray>> FileService::content(const QString &id)
{
    auto meta = liveRow(id);
    if (!meta)
        return ApiError::notFound(QStringLiteral("file %1 not found").arg(id));
    QFile f(blobPath(id));
    if (!f.open(QIODevice::ReadOnly))
        return ApiError::internal(
            QStringLiteral("the stored bytes of file %1 cannot be read: %2").arg(id, f.errorString()));
    QByteArray bytes = f.readAll();
    if (bytes.size() != meta->value(QStringLiteral("size_bytes")).toInteger())
        return ApiError::internal(QStringLiteral("the stored bytes of file %1 are incomplete").arg(id));
    return qMakePair(*meta, bytes);
}

Result<QJsonObject> FileService::remove(const QString &id)
{
    if (!liveRow(id))
        return ApiError::notFound(QStringLiteral("file %1 not found").arg(id));
    if (auto s = m_table.remove(id); !s)
        return s.error();
    // The row is gone, so the file is gone for every reader; a blob left behind by a failed
    // unlink is collected by the start-up sweep.
    if (!QFile::remove(blobPath(id)) && QFile::exists(blobPath(id)))
        qCWarning(lcFiles) << "cannot remove blob of deleted file" << id;
    Q_EMIT removed(id);
    return QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("type"), QStringLiteral("file_deleted")}};
}

} // namespace viv
