#include "MemoryStoreService.h"
#include "ListFilters.h"

#include "MemoryStoreInternal.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcMemory, "vivarium.memory")

namespace viv {

using namespace memory_internal;

// ---- helpers shared with MemoryVersions.cpp (MemoryStoreInternal.h) ---------------------------

namespace memory_internal {

QString sha256Hex(const QString &content)
{
    return QString::fromLatin1(
        QCryptographicHash::hash(content.toUtf8(), QCryptographicHash::Sha256).toHex());
}

bool isSha256Hex(const QString &s)
{
    if (s.size() != 64)
        return false;
    for (QChar c : s) {
        if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f')))
            return false;
    }
    return true;
}

SecureDelete::SecureDelete(Database &db) : m_db(db)
{
    QSqlQuery q = m_db.query(QStringLiteral("PRAGMA secure_delete"));
    if (m_db.exec(q).ok() && q.next())
        m_previous = q.value(0).toInt();
    if (m_previous != 1) {
        if (auto s = m_db.exec(QStringLiteral("PRAGMA secure_delete=ON")); !s)
            qCWarning(lcMemory) << "secure_delete:" << s.error().message();
    }
}

SecureDelete::~SecureDelete()
{
    if (m_previous == 1)
        return; // it was on already (Debian's SQLite is built with SQLITE_SECURE_DELETE)
    const QString restore = m_previous == 2 ? QStringLiteral("FAST") : QStringLiteral("OFF");
    if (auto s = m_db.exec(QStringLiteral("PRAGMA secure_delete=%1").arg(restore)); !s)
        qCWarning(lcMemory) << "secure_delete:" << s.error().message();
}

} // namespace memory_internal

// ---- actors ------------------------------------------------------------------------------------

QString MemoryActor::typeName() const
{
    switch (type) {
    case Type::Api: return QStringLiteral("api_actor");
    case Type::Session: return QStringLiteral("session_actor");
    case Type::User: return QStringLiteral("user_actor");
    }
    return QStringLiteral("api_actor");
}

QJsonObject MemoryActor::toJson() const
{
    switch (type) {
    case Type::Api: return {{k("type"), typeName()}, {k("api_key_id"), id}};
    case Type::Session: return {{k("type"), typeName()}, {k("session_id"), id}};
    case Type::User: return {{k("type"), typeName()}, {k("user_id"), id}};
    }
    return {};
}

QJsonObject MemoryStoreService::MemoryRow::toJson(MemoryView view) const
{
    return {{k("type"), QStringLiteral("memory")},
            {k("id"), id},
            {k("memory_store_id"), storeId},
            {k("path"), path},
            {k("content"), view == MemoryView::Full ? QJsonValue(content) : QJsonValue(QJsonValue::Null)},
            {k("content_sha256"), sha256},
            {k("content_size_bytes"), size},
            {k("memory_version_id"), versionId},
            {k("created_at"), createdAt},
            {k("updated_at"), updatedAt}};
}

MemoryStoreService::MemoryStoreService(Database &db, QObject *parent)
    : QObject(parent), m_db(db), m_stores(db, QStringLiteral("memory_stores")),
      m_versions(db, QStringLiteral("memory_versions"))
{
}

// ---- stores ------------------------------------------------------------------------------------

Result<QJsonObject> MemoryStoreService::createStore(const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"name", u"description", u"metadata"});
    const auto name = f.string(u"name", JsonFields::Required, kMaxName, false);
    const auto description = f.text(u"description", JsonFields::Optional, kMaxDescription);
    const auto metadata = f.metadata(u"metadata");
    if (!f.ok())
        return f.error();
    const QString now = clock::nowIso();
    const QString id = ids::make(u"memstore");
    QJsonObject doc{{k("type"), QStringLiteral("memory_store")},
                    {k("id"), id},
                    {k("name"), *name},
                    {k("description"), description.value_or(QString())},
                    {k("metadata"), metadata.value_or(QJsonObject{})},
                    {k("created_at"), now},
                    {k("updated_at"), now},
                    {k("archived_at"), QJsonValue::Null}};
    if (auto s = m_stores.insert({{k("id"), id},
                                  {k("created_at"), now},
                                  {k("updated_at"), now},
                                  {k("archived_at"), QVariant()},
                                  {k("doc"), serializeDoc(doc)}});
        !s)
        return s.error();
    Q_EMIT storeChanged(id, doc);
    return doc;
}

Result<QJsonObject> MemoryStoreService::store(const QString &storeId)
{
    if (auto doc = m_stores.get(storeId))
        return *doc;
    return ApiError::notFound(QStringLiteral("memory store %1 not found").arg(storeId));
}

Result<QJsonObject> MemoryStoreService::writableStore(const QString &storeId)
{
    auto doc = store(storeId);
    if (doc && !doc->value(k("archived_at")).isNull())
        return ApiError::conflict(QStringLiteral("memory store %1 is archived: its memories and fields "
                                                 "can no longer be created or changed")
                                      .arg(storeId));
    return doc;
}

Result<QJsonObject> MemoryStoreService::retrieveStore(const QString &storeId)
{
    return store(storeId);
}

Result<QJsonObject> MemoryStoreService::updateStore(const QString &storeId, const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"name", u"description", u"metadata"});
    const auto name = f.string(u"name", JsonFields::Optional, kMaxName, false);
    const auto description = f.text(u"description", JsonFields::Optional, kMaxDescription);
    const auto metadata = f.metadata(u"metadata", true);
    if (!f.ok())
        return f.error();
    auto current = writableStore(storeId);
    if (!current)
        return current;
    QJsonObject doc = *current;
    if (name)
        doc.insert(k("name"), *name);
    if (description)
        doc.insert(k("description"), *description);
    if (metadata) {
        QJsonObject md = doc.value(k("metadata")).toObject();
        if (const QString err = applyMetadataPatch(md, *metadata); !err.isEmpty())
            return ApiError::invalid(err);
        doc.insert(k("metadata"), md);
    }
    if (doc == *current)
        return doc; // nothing changed: updated_at stays
    const QString now = clock::nowIso();
    doc.insert(k("updated_at"), now);
    if (auto s = m_stores.update(storeId, {{k("updated_at"), now}, {k("doc"), serializeDoc(doc)}}); !s)
        return s.error();
    Q_EMIT storeChanged(storeId, doc);
    return doc;
}

Result<Page> MemoryStoreService::listStores(const PageRequest &page, bool includeArchived,
                                            const QString &createdGte, const QString &createdLte)
{
    auto filters = listfilters::createdAt({.gte = createdGte, .lte = createdLte});
    if (!filters)
        return filters.error();
    if (!includeArchived)
        filters->append({QStringLiteral("archived_at IS NULL"), {}});
    return m_stores.list(page, *filters);
}

Result<QJsonObject> MemoryStoreService::archiveStore(const QString &storeId)
{
    auto current = store(storeId);
    if (!current || !current->value(k("archived_at")).isNull())
        return current;
    QJsonObject doc = *current;
    const QString now = clock::nowIso();
    doc.insert(k("archived_at"), now);
    doc.insert(k("updated_at"), now);
    if (auto s = m_stores.update(storeId, {{k("updated_at"), now},
                                           {k("archived_at"), now},
                                           {k("doc"), serializeDoc(doc)}});
        !s)
        return s.error();
    Q_EMIT storeChanged(storeId, doc);
    return doc;
}

Result<QJsonObject> MemoryStoreService::deleteStore(const QString &storeId)
{
    if (auto current = store(storeId); !current)
        return current;
    SecureDelete secure(m_db);
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a database transaction"));
    for (const QString &table : {QStringLiteral("memory_versions"), QStringLiteral("memories")}) {
        QSqlQuery q = m_db.query(QStringLiteral("DELETE FROM %1 WHERE store_id = ?").arg(table));
        q.addBindValue(storeId);
        if (auto s = m_db.exec(q); !s)
            return s.error();
    }
    if (auto s = m_stores.remove(storeId); !s)
        return s.error();
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("deleting memory store %1").arg(storeId));
    Q_EMIT storeRemoved(storeId);
    return QJsonObject{{k("type"), QStringLiteral("memory_store_deleted")}, {k("id"), storeId}};
}

// ---- memories ----------------------------------------------------------------------------------

namespace memory_internal {

MemoryStoreService::MemoryRow memoryFromQuery(const QSqlQuery &q)
{
    MemoryStoreService::MemoryRow r;
    r.id = q.value(0).toString();
    r.storeId = q.value(1).toString();
    r.path = q.value(2).toString();
    r.content = q.value(3).toString();
    r.sha256 = q.value(4).toString();
    r.size = q.value(5).toLongLong();
    r.versionId = q.value(6).toString();
    r.createdAt = q.value(7).toString();
    r.updatedAt = q.value(8).toString();
    return r;
}

} // namespace memory_internal

std::optional<MemoryStoreService::MemoryRow> MemoryStoreService::memoryById(const QString &storeId,
                                                                           const QString &memoryId)
{
    QSqlQuery q = m_db.query(
        QStringLiteral("SELECT %1 FROM memories WHERE store_id = ? AND id = ?").arg(kMemoryColumns));
    q.addBindValue(storeId);
    q.addBindValue(memoryId);
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    return memoryFromQuery(q);
}

std::optional<MemoryStoreService::MemoryRow> MemoryStoreService::memoryAtPath(const QString &storeId,
                                                                             const QString &path)
{
    QSqlQuery q = m_db.query(
        QStringLiteral("SELECT %1 FROM memories WHERE store_id = ? AND path = ?").arg(kMemoryColumns));
    q.addBindValue(storeId);
    q.addBindValue(path);
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    return memoryFromQuery(q);
}

QList<MemoryStoreService::MemoryRow> MemoryStoreService::allMemories(const QString &storeId)
{
    QList<MemoryRow> out;
    QSqlQuery q = m_db.query(
        QStringLiteral("SELECT %1 FROM memories WHERE store_id = ? ORDER BY path").arg(kMemoryColumns));
    q.addBindValue(storeId);
    if (!m_db.exec(q))
        return out;
    while (q.next())
        out.append(memoryFromQuery(q));
    return out;
}

Status MemoryStoreService::checkPathFree(const QString &storeId, const QString &path,
                                         const QString &exceptId)
{
    // The path itself and its ancestors ("/a", "/a/b" for "/a/b/c"), then its descendants: every
    // path that starts with "<path>/" sorts at or after it and before "<path>0" ('/' < '0').
    QStringList candidates{path};
    for (qsizetype i = path.indexOf(u'/', 1); i > 0; i = path.indexOf(u'/', i + 1))
        candidates << path.left(i);
    QStringList marks(candidates.size(), QStringLiteral("?"));
    QSqlQuery q = m_db.query(QStringLiteral("SELECT id, path FROM memories WHERE store_id = ? AND id != ? "
                                            "AND (path IN (%1) OR (path > ? AND path < ?)) LIMIT 1")
                                 .arg(marks.join(u',')));
    q.addBindValue(storeId);
    q.addBindValue(exceptId);
    for (const QString &c : std::as_const(candidates))
        q.addBindValue(c);
    q.addBindValue(QString(path + u'/'));
    q.addBindValue(QString(path + u'0'));
    if (auto s = m_db.exec(q); !s)
        return s;
    if (!q.next())
        return Ok{};
    const QString otherId = q.value(0).toString();
    const QString otherPath = q.value(1).toString();
    const QString why = otherPath == path ? QStringLiteral("is taken by memory %1").arg(otherId)
                                          : QStringLiteral("overlaps memory %1 at `%2` (one path may not "
                                                           "be an ancestor of another)")
                                                .arg(otherId, otherPath);
    return ApiError::conflict(QStringLiteral("`path` `%1` %2; rename or delete that memory, or update it "
                                             "instead")
                                  .arg(path, why))
        .withType(QStringLiteral("memory_path_conflict_error"),
                  {{k("conflicting_memory_id"), otherId}, {k("conflicting_path"), otherPath}});
}

Status MemoryStoreService::checkContent(const QString &content, const QString &field)
{
    const qint64 bytes = content.toUtf8().size();
    if (bytes > kMaxContentBytes)
        return ApiError::invalid(QStringLiteral("`%1` is %2 bytes of UTF-8; a memory holds at most %3 bytes "
                                                "(100 kB)")
                                     .arg(field)
                                     .arg(bytes)
                                     .arg(kMaxContentBytes));
    return Ok{};
}

Result<QJsonObject> MemoryStoreService::writeVersion(const MemoryRow &row, const QString &operation,
                                                     const MemoryActor &actor, bool insert)
{
    const bool deleted = operation == u"deleted";
    QJsonObject version{{k("type"), QStringLiteral("memory_version")},
                        {k("id"), row.versionId},
                        {k("memory_store_id"), row.storeId},
                        {k("memory_id"), row.id},
                        {k("operation"), operation},
                        {k("created_at"), row.updatedAt},
                        {k("created_by"), actor.toJson()},
                        {k("path"), row.path},
                        {k("content"), deleted ? QJsonValue(QJsonValue::Null) : QJsonValue(row.content)},
                        {k("content_sha256"), deleted ? QJsonValue(QJsonValue::Null) : QJsonValue(row.sha256)},
                        {k("content_size_bytes"), deleted ? QJsonValue(QJsonValue::Null) : QJsonValue(row.size)},
                        {k("redacted_at"), QJsonValue::Null},
                        {k("redacted_by"), QJsonValue::Null}};
    if (deleted) {
        QSqlQuery q = m_db.query(QStringLiteral("DELETE FROM memories WHERE store_id = ? AND id = ?"));
        q.addBindValue(row.storeId);
        q.addBindValue(row.id);
        if (auto s = m_db.exec(q); !s)
            return s.error();
    } else {
        QSqlQuery q = m_db.query(
            insert ? QStringLiteral("INSERT INTO memories (path, content, content_sha256, content_size_bytes, "
                                    "version_id, updated_at, created_at, store_id, id) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                   : QStringLiteral("UPDATE memories SET path = ?, content = ?, content_sha256 = ?, "
                                    "content_size_bytes = ?, version_id = ?, updated_at = ? "
                                    "WHERE created_at = ? AND store_id = ? AND id = ?"));
        for (const QVariant &v : {QVariant(row.path), QVariant(row.content), QVariant(row.sha256),
                                  QVariant(row.size), QVariant(row.versionId), QVariant(row.updatedAt),
                                  QVariant(row.createdAt), QVariant(row.storeId), QVariant(row.id)})
            q.addBindValue(v);
        if (auto s = m_db.exec(q); !s)
            return s.error();
        if (q.numRowsAffected() != 1)
            return ApiError::internal(QStringLiteral("memory %1 was not written").arg(row.id));
    }
    if (auto s = m_versions.insert({{k("id"), row.versionId},
                                    {k("store_id"), row.storeId},
                                    {k("memory_id"), row.id},
                                    {k("operation"), operation},
                                    {k("created_at"), row.updatedAt},
                                    {k("actor_type"), actor.typeName()},
                                    {k("actor_id"), actor.id},
                                    {k("redacted_at"), QVariant()},
                                    {k("doc"), serializeDoc(version)}});
        !s)
        return s.error();
    return version;
}

Result<QJsonObject> MemoryStoreService::commitWrite(const QString &storeId, const MemoryRow &row,
                                                    const QString &operation, const MemoryActor &actor,
                                                    bool insert, MemoryView view)
{
    SecureDelete secure(m_db); // an update's old content must not linger in freed pages
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a database transaction"));
    if (insert) {
        QSqlQuery q = m_db.query(QStringLiteral("SELECT COUNT(*) FROM memories WHERE store_id = ?"));
        q.addBindValue(storeId);
        if (auto s = m_db.exec(q); !s)
            return s.error();
        if (q.next() && q.value(0).toLongLong() >= kMaxMemoriesPerStore)
            return ApiError::invalid(QStringLiteral("memory store %1 holds %2 memories, the most a store can "
                                                    "hold; delete some before creating more")
                                         .arg(storeId)
                                         .arg(kMaxMemoriesPerStore));
    }
    if (auto s = checkPathFree(storeId, row.path, row.id); !s)
        return s.error();
    auto version = writeVersion(row, operation, actor, insert);
    if (!version)
        return version;
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("writing memory %1").arg(row.id));
    Q_EMIT memoryChanged(storeId, row.id, row.toJson(MemoryView::Full));
    Q_EMIT versionChanged(storeId, *version);
    return row.toJson(view);
}

Result<QJsonObject> MemoryStoreService::createMemory(const QString &storeId, const QJsonObject &params,
                                                     MemoryView view, const MemoryActor &actor)
{
    JsonFields f(params);
    f.allowOnly({u"path", u"content"});
    const auto path = f.string(u"path", JsonFields::Required, 0, false);
    const auto content = f.text(u"content", JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (const QString why = validate::memoryPathProblem(*path); !why.isEmpty())
        return ApiError::invalid(QStringLiteral("`path` %1").arg(why));
    if (auto s = checkContent(*content, QStringLiteral("content")); !s)
        return s.error();
    if (auto s = writableStore(storeId); !s)
        return s;
    MemoryRow row;
    row.id = ids::make(u"mem");
    row.storeId = storeId;
    row.path = *path;
    row.content = *content;
    row.sha256 = sha256Hex(*content);
    row.size = content->toUtf8().size();
    row.versionId = ids::make(u"memver");
    row.createdAt = row.updatedAt = clock::nowIso();
    return commitWrite(storeId, row, QStringLiteral("created"), actor, true, view);
}

Result<QJsonObject> MemoryStoreService::retrieveMemory(const QString &storeId, const QString &memoryId,
                                                       MemoryView view)
{
    if (auto s = store(storeId); !s)
        return s;
    if (auto row = memoryById(storeId, memoryId))
        return row->toJson(view);
    return ApiError::notFound(QStringLiteral("memory %1 not found in memory store %2").arg(memoryId, storeId));
}

Result<QJsonObject> MemoryStoreService::updateMemory(const QString &storeId, const QString &memoryId,
                                                     const QJsonObject &params, MemoryView view,
                                                     const MemoryActor &actor)
{
    JsonFields f(params);
    f.allowOnly({u"path", u"content", u"precondition"});
    const auto path = f.string(u"path", JsonFields::Optional, 0, false);
    const auto content = f.text(u"content", JsonFields::Optional);
    const auto precondition = f.object(u"precondition");
    std::optional<QString> expected;
    if (precondition) {
        JsonFields p(*precondition, f.pathOf(u"precondition"));
        p.allowOnly({u"type", u"content_sha256"});
        p.oneOf(u"type", {QStringLiteral("content_sha256")}, JsonFields::Required);
        expected = p.string(u"content_sha256", JsonFields::Required);
        if (p.ok() && !isSha256Hex(*expected))
            p.failAt(u"content_sha256", QStringLiteral("must be 64 lowercase hexadecimal characters"));
        f.adopt(p);
    }
    if (!f.ok())
        return f.error();
    if (path) {
        if (const QString why = validate::memoryPathProblem(*path); !why.isEmpty())
            return ApiError::invalid(QStringLiteral("`path` %1").arg(why));
    }
    if (content) {
        if (auto s = checkContent(*content, QStringLiteral("content")); !s)
            return s.error();
    }
    if (auto s = writableStore(storeId); !s)
        return s;
    auto current = memoryById(storeId, memoryId);
    if (!current)
        return ApiError::notFound(QStringLiteral("memory %1 not found in memory store %2").arg(memoryId, storeId));
    MemoryRow row = *current;
    row.path = path.value_or(current->path);
    row.content = content.value_or(current->content);
    if (row.path == current->path && row.content == current->content)
        return current->toJson(view); // nothing changes: no version (the API's no-op rule)
    if (expected && *expected != current->sha256)
        return ApiError::conflict(QStringLiteral("precondition failed: memory %1's content_sha256 is not %2 "
                                                 "(it changed); retrieve the memory and retry")
                                      .arg(memoryId, *expected))
            .withType(QStringLiteral("memory_precondition_failed_error"));
    row.sha256 = sha256Hex(row.content);
    row.size = row.content.toUtf8().size();
    row.versionId = ids::make(u"memver");
    row.updatedAt = clock::nowIso();
    return commitWrite(storeId, row, QStringLiteral("modified"), actor, false, view);
}

Result<QJsonObject> MemoryStoreService::removeMemory(const MemoryRow &current, const QString &expectedSha256,
                                                     const MemoryActor &actor)
{
    if (!expectedSha256.isEmpty() && expectedSha256 != current.sha256)
        return ApiError::conflict(QStringLiteral("precondition failed: memory %1's content_sha256 is not %2 "
                                                 "(it changed); nothing was deleted")
                                      .arg(current.id, expectedSha256))
            .withType(QStringLiteral("memory_precondition_failed_error"));
    MemoryRow row = current;
    row.versionId = ids::make(u"memver");
    row.updatedAt = clock::nowIso();
    SecureDelete secure(m_db);
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a database transaction"));
    auto version = writeVersion(row, QStringLiteral("deleted"), actor, false);
    if (!version)
        return version;
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("deleting memory %1").arg(row.id));
    Q_EMIT memoryRemoved(row.storeId, row.id);
    Q_EMIT versionChanged(row.storeId, *version);
    return QJsonObject{{k("type"), QStringLiteral("memory_deleted")}, {k("id"), row.id}};
}

Result<QJsonObject> MemoryStoreService::deleteMemory(const QString &storeId, const QString &memoryId,
                                                     const QString &expectedSha256, const MemoryActor &actor)
{
    if (!expectedSha256.isEmpty() && !isSha256Hex(expectedSha256))
        return ApiError::invalid(
            QStringLiteral("`expected_content_sha256` must be 64 lowercase hexadecimal characters"));
    if (auto s = store(storeId); !s)
        return s;
    auto current = memoryById(storeId, memoryId);
    if (!current)
        return ApiError::notFound(QStringLiteral("memory %1 not found in memory store %2").arg(memoryId, storeId));
    return removeMemory(*current, expectedSha256, actor);
}

Result<QJsonObject> MemoryStoreService::writeAtPath(const QString &storeId, const QString &path,
                                                    const QString &content, const MemoryActor &actor)
{
    if (const QString why = validate::memoryPathProblem(path); !why.isEmpty())
        return ApiError::invalid(QStringLiteral("`path` %1").arg(why));
    if (auto s = checkContent(content, QStringLiteral("content")); !s)
        return s.error();
    if (auto s = writableStore(storeId); !s)
        return s;
    const QString now = clock::nowIso();
    if (auto current = memoryAtPath(storeId, path)) {
        if (current->content == content)
            return current->toJson(MemoryView::Basic);
        MemoryRow row = *current;
        row.content = content;
        row.sha256 = sha256Hex(content);
        row.size = content.toUtf8().size();
        row.versionId = ids::make(u"memver");
        row.updatedAt = now;
        return commitWrite(storeId, row, QStringLiteral("modified"), actor, false, MemoryView::Basic);
    }
    MemoryRow row;
    row.id = ids::make(u"mem");
    row.storeId = storeId;
    row.path = path;
    row.content = content;
    row.sha256 = sha256Hex(content);
    row.size = content.toUtf8().size();
    row.versionId = ids::make(u"memver");
    row.createdAt = row.updatedAt = now;
    return commitWrite(storeId, row, QStringLiteral("created"), actor, true, MemoryView::Basic);
}

Result<QJsonObject> MemoryStoreService::removeAtPath(const QString &storeId, const QString &path,
                                                     const MemoryActor &actor)
{
    if (auto s = writableStore(storeId); !s)
        return s;
    auto current = memoryAtPath(storeId, path);
    if (!current)
        return ApiError::notFound(QStringLiteral("no memory at `%1` in memory store %2").arg(path, storeId));
    return removeMemory(*current, QString(), actor);
}

} // namespace viv
