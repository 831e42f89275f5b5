// MemoryStoreService: listing memories by path, and memory versions (list, retrieve, redact).

#include "MemoryStoreInternal.h"
#include "ListFilters.h"
#include "MemoryStoreService.h"

#include "core/Clock.h"
#include "core/Validators.h"
#include "store/Database.h"

namespace viv {

using namespace memory_internal;

namespace {

QJsonObject withView(QJsonObject version, MemoryView view)
{
    if (view == MemoryView::Basic)
        version.insert(k("content"), QJsonValue::Null);
    return version;
}

} // namespace

// ---- listing memories --------------------------------------------------------------------------

Result<Page> MemoryStoreService::listMemories(const QString &storeId, const ListQuery &query,
                                              PageRequest page)
{
    if (!query.pathPrefix.isEmpty()) {
        if (const QString why = validate::memoryPathPrefixProblem(query.pathPrefix); !why.isEmpty())
            return ApiError::invalid(QStringLiteral("`path_prefix` %1").arg(why));
    }
    if (query.depth < 0 || query.depth > validate::kMaxMemoryPathSegments)
        return ApiError::invalid(QStringLiteral("`depth` must be an integer between 0 and %1")
                                     .arg(validate::kMaxMemoryPathSegments));
    if (auto s = store(storeId); !s)
        return s.error();
    if (query.view == MemoryView::Full)
        page.limit = std::min(page.limit, kMaxFullViewPage);

    const QString prefix = query.pathPrefix.isEmpty() ? QStringLiteral("/") : query.pathPrefix;
    // The list's identity binds its cursors: another store, prefix or depth does not parse.
    const QString listId =
        QStringLiteral("memories|%1|%2|%3").arg(storeId, prefix).arg(query.depth);

    // Position: everything at or after `lower` (inclusive or not). A cursor names the last item
    // of the previous page: a memory ('m', continue after its path) or a prefix ('p', continue
    // after everything below it, i.e. at "<prefix without its slash>0").
    QString lower = prefix;
    bool inclusive = true;
    if (!page.page.isEmpty()) {
        char kind = 0;
        QByteArray position;
        if (!cursors::parse(listId, page.page, kind, position) || (kind != 'm' && kind != 'p')
            || !position.startsWith(prefix.toUtf8()))
            return ApiError::invalid(QStringLiteral("`page` is not a cursor of this list"));
        const QString last = QString::fromUtf8(position);
        if (kind == 'm') {
            lower = last;
            inclusive = false;
        } else {
            lower = last.chopped(1) + u'0';
        }
    }
    // Everything below the prefix sorts before "<prefix without its slash>0"; "/" covers all.
    const QString upper = prefix == u"/" ? QString() : prefix.chopped(1) + u'0';

    struct Item
    {
        char kind;
        QString path;
        QJsonObject json;
    };
    QList<Item> items;
    const int want = page.limit + 1;
    const QString columns = query.view == MemoryView::Full
                                ? QStringLiteral("id, store_id, path, content")
                                : QStringLiteral("id, store_id, path, NULL");
    while (items.size() < want) {
        QString sql = QStringLiteral("SELECT %1, content_sha256, content_size_bytes, version_id, created_at, "
                                     "updated_at FROM memories WHERE store_id = ? AND path %2 ?")
                          .arg(columns, inclusive ? QStringLiteral(">=") : QStringLiteral(">"));
        if (!upper.isEmpty())
            sql += QStringLiteral(" AND path < ?");
        sql += QStringLiteral(" ORDER BY path LIMIT %1").arg(want - items.size());
        QSqlQuery q = m_db.query(sql);
        q.addBindValue(storeId);
        q.addBindValue(lower);
        if (!upper.isEmpty())
            q.addBindValue(upper);
        if (auto s = m_db.exec(q); !s)
            return s.error();
        bool rolledUp = false;
        int rows = 0;
        while (q.next()) {
            ++rows;
            const MemoryRow r = memoryFromQuery(q);
            if (query.depth > 0) {
                // Below the prefix: "a/b/c.md"; deeper than `depth` segments rolls up.
                const QStringView rest = QStringView(r.path).mid(prefix.size());
                const QList<QStringView> segments = rest.split(u'/');
                if (segments.size() > query.depth) {
                    QString rolled = prefix;
                    for (int i = 0; i < query.depth; ++i)
                        rolled += segments.at(i) + u'/';
                    items.append({'p', rolled, QJsonObject{{k("type"), QStringLiteral("memory_prefix")},
                                                           {k("path"), rolled}}});
                    lower = rolled.chopped(1) + u'0';
                    inclusive = true;
                    rolledUp = true;
                    break; // continue after everything below the rolled-up prefix
                }
            }
            items.append({'m', r.path, r.toJson(query.view)});
            lower = r.path;
            inclusive = false;
        }
        if (!rolledUp && rows < want) // the store has no more rows in range
            break;
        if (!rolledUp && rows == 0)
            break;
    }

    Page out;
    const bool more = items.size() > page.limit;
    if (more)
        items.removeLast();
    for (const Item &item : std::as_const(items))
        out.data.append(item.json);
    if (more && !items.isEmpty())
        out.nextPage = cursors::make(listId, items.last().kind, items.last().path.toUtf8());
    return out;
}

// ---- versions ----------------------------------------------------------------------------------

Result<Page> MemoryStoreService::listVersions(const QString &storeId, const VersionQuery &query,
                                              PageRequest page)
{
    static const QStringList kOperations{QStringLiteral("created"), QStringLiteral("modified"),
                                         QStringLiteral("deleted")};
    if (!query.operation.isEmpty() && !kOperations.contains(query.operation))
        return ApiError::invalid(QStringLiteral("`operation` must be one of created, modified, deleted"));
    auto created = listfilters::createdAt({.gte = query.createdGte, .lte = query.createdLte});
    if (!created)
        return created.error();
    if (auto s = store(storeId); !s)
        return s.error();
    if (query.view == MemoryView::Full)
        page.limit = std::min(page.limit, kMaxFullViewPage);
    page.newestFirst = true;

    QList<DocTable::Filter> filters{{QStringLiteral("store_id = ?"), {storeId}}};
    if (!query.memoryId.isEmpty())
        filters.append({QStringLiteral("memory_id = ?"), {query.memoryId}});
    if (!query.operation.isEmpty())
        filters.append({QStringLiteral("operation = ?"), {query.operation}});
    const QList<std::pair<QString, QString>> actors{
        {QStringLiteral("session_actor"), query.sessionId},
        {QStringLiteral("api_actor"), query.apiKeyId},
        {QStringLiteral("service_account_actor"), query.serviceAccountId}};
    for (const auto &[type, id] : actors) {
        if (!id.isEmpty())
            filters.append({QStringLiteral("actor_type = ? AND actor_id = ?"), {type, id}});
    }
    filters.append(*created);
    auto result = m_versions.list(page, filters);
    if (!result)
        return result;
    QJsonArray data;
    for (const QJsonValue &v : std::as_const(result->data))
        data.append(withView(v.toObject(), query.view));
    result->data = data;
    return result;
}

Result<QJsonObject> MemoryStoreService::versionDoc(const QString &storeId, const QString &versionId)
{
    if (auto s = store(storeId); !s)
        return s;
    if (auto doc = m_versions.getWhere(versionId, k("store_id"), storeId))
        return *doc;
    return ApiError::notFound(
        QStringLiteral("memory version %1 not found in memory store %2").arg(versionId, storeId));
}

Result<QJsonObject> MemoryStoreService::retrieveVersion(const QString &storeId, const QString &versionId,
                                                        MemoryView view)
{
    auto doc = versionDoc(storeId, versionId);
    if (!doc)
        return doc;
    return withView(*doc, view);
}

Result<QJsonObject> MemoryStoreService::redactVersion(const QString &storeId, const QString &versionId,
                                                      const MemoryActor &actor)
{
    auto current = versionDoc(storeId, versionId);
    if (!current || !current->value(k("redacted_at")).isNull())
        return current; // a redacted version stays as it was redacted
    {
        QSqlQuery q = m_db.query(QStringLiteral("SELECT id FROM memories WHERE store_id = ? AND version_id = ?"));
        q.addBindValue(storeId);
        q.addBindValue(versionId);
        if (auto s = m_db.exec(q); !s)
            return s.error();
        if (q.next())
            return ApiError::conflict(QStringLiteral("memory version %1 is the current version of memory %2; "
                                                     "update or delete the memory first, then redact this "
                                                     "version")
                                          .arg(versionId, q.value(0).toString()));
    }
    QJsonObject doc = *current;
    const QString now = clock::nowIso();
    for (const char *field : {"content", "content_sha256", "content_size_bytes", "path"})
        doc.insert(k(field), QJsonValue::Null);
    doc.insert(k("redacted_at"), now);
    doc.insert(k("redacted_by"), actor.toJson());
    {
        SecureDelete secure(m_db); // the old document's bytes are overwritten, not just freed
        Transaction tx(m_db);
        if (!tx.active())
            return ApiError::internal(QStringLiteral("cannot begin a database transaction"));
        if (auto s = m_versions.update(versionId, {{k("redacted_at"), now}, {k("doc"), serializeDoc(doc)}}); !s)
            return s.error();
        if (!tx.commit())
            return m_db.commitError(QStringLiteral("redacting memory version %1").arg(versionId));
    }
    // Older copies of the page may still sit in the write-ahead log until a checkpoint copies
    // the new one into the file; checkpoint now and truncate the log (best effort: a reader on
    // another connection can hold it back, then the next checkpoint completes it).
    QSqlQuery cp = m_db.query(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)"));
    if (!m_db.exec(cp) || (cp.next() && cp.value(0).toInt() != 0))
        qCWarning(lcMemory) << "checkpoint after redacting" << versionId << "did not complete; the next one will";
    Q_EMIT versionChanged(storeId, doc);
    return doc;
}

} // namespace viv
