#pragma once

#include "Database.h"
#include "core/Result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QVariant>

#include <optional>

namespace viv {

// A page request as the API takes it: `limit` and an opaque `page` cursor (the API reads them
// from the query string: ApiRequest::pageRequest).
struct PageRequest
{
    int limit = 20;
    QString page; // opaque cursor from a previous next_page / prev_page
    bool newestFirst = true;
};

struct Page
{
    QJsonArray data;
    QString nextPage; // empty = null
    QString prevPage; // empty = null
    QJsonObject toJson(bool withPrev) const;
};

// Opaque page cursors bound to the list that issued them: base64url of
// "<direction><position>.<tag>", the tag being a hash of the list's identity (table, filter
// columns, order). A cursor from another list does not parse.
namespace cursors {
QString make(QStringView list, char direction, const QByteArray &position);
bool parse(QStringView list, const QString &cursor, char &direction, QByteArray &position);
} // namespace cursors

// One resource table whose rows hold the resource's JSON document (`doc`) plus the indexed
// columns used for lookups and filters. Ordering and cursors use the AUTOINCREMENT `seq`, so
// pages are stable under concurrent inserts.
class DocTable
{
public:
    DocTable(Database &db, QString table) : m_db(db), m_table(std::move(table)) {}

    const QString &table() const { return m_table; }

    // Inserts a row; `columns` are extra column/value pairs (id, created_at, … included).
    Status insert(const QList<QPair<QString, QVariant>> &columns);
    // Updates columns of the row with this id. Returns NotFound when no row matched.
    Status update(const QString &id, const QList<QPair<QString, QVariant>> &columns);
    Status remove(const QString &id);
    std::optional<QJsonObject> get(const QString &id);
    // The stored document's bytes, unparsed (served as-is on hot GET paths).
    std::optional<QByteArray> getRaw(const QString &id);
    // Like get(), restricted by an extra equality (e.g. vault_id for a credential).
    std::optional<QJsonObject> getWhere(const QString &id, const QString &column,
                                        const QVariant &value);

    struct Filter
    {
        QString sql; // e.g. "agent_id = ?" or "archived_at IS NULL"
        QVariantList values;
    };
    Result<Page> list(const PageRequest &req, const QList<Filter> &filters);

private:
    Database &m_db;
    QString m_table;
};

QJsonObject parseDoc(const QString &json);
QString serializeDoc(const QJsonObject &doc);

} // namespace viv
