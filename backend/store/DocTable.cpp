#include "DocTable.h"

#include <QCryptographicHash>
#include <QJsonDocument>

namespace viv {

namespace {

QByteArray listTag(QStringView list)
{
    return QCryptographicHash::hash(list.toUtf8(), QCryptographicHash::Sha256).left(6).toHex();
}

} // namespace

QString cursors::make(QStringView list, char direction, const QByteArray &position)
{
    return QString::fromLatin1(QByteArray(QByteArray(1, direction) + position + '.' + listTag(list))
                                   .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

bool cursors::parse(QStringView list, const QString &cursor, char &direction, QByteArray &position)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        cursor.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() < 2)
        return false;
    const QByteArray &d = decoded.decoded;
    const qsizetype dot = d.lastIndexOf('.');
    if (dot < 2 || d.mid(dot + 1) != listTag(list))
        return false;
    direction = d.at(0);
    position = d.mid(1, dot - 1);
    return true;
}

QJsonObject Page::toJson(bool withPrev) const
{
    QJsonObject o{{QStringLiteral("data"), data},
                  {QStringLiteral("next_page"),
                   nextPage.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(nextPage)}};
    if (withPrev)
        o.insert(QStringLiteral("prev_page"),
                 prevPage.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(prevPage));
    return o;
}

QJsonObject parseDoc(const QString &json)
{
    return QJsonDocument::fromJson(json.toUtf8()).object();
}

QString serializeDoc(const QJsonObject &doc)
{
    return QString::fromUtf8(QJsonDocument(doc).toJson(QJsonDocument::Compact));
}

Status DocTable::insert(const QList<QPair<QString, QVariant>> &columns)
{
    QStringList names, marks;
    for (const auto &c : columns) {
        names << c.first;
        marks << QStringLiteral("?");
    }
    QSqlQuery q = m_db.query(QStringLiteral("INSERT INTO %1 (%2) VALUES (%3)")
                                 .arg(m_table, names.join(u','), marks.join(u',')));
    for (const auto &c : columns)
        q.addBindValue(c.second);
    return m_db.exec(q);
}

Status DocTable::update(const QString &id, const QList<QPair<QString, QVariant>> &columns)
{
    QStringList sets;
    for (const auto &c : columns)
        sets << c.first + QStringLiteral(" = ?");
    QSqlQuery q = m_db.query(
        QStringLiteral("UPDATE %1 SET %2 WHERE id = ?").arg(m_table, sets.join(u',')));
    for (const auto &c : columns)
        q.addBindValue(c.second);
    q.addBindValue(id);
    if (auto s = m_db.exec(q); !s)
        return s;
    if (q.numRowsAffected() == 0)
        return ApiError::notFound(QStringLiteral("no such resource: %1").arg(id));
    return Ok{};
}

Status DocTable::remove(const QString &id)
{
    QSqlQuery q = m_db.query(QStringLiteral("DELETE FROM %1 WHERE id = ?").arg(m_table));
    q.addBindValue(id);
    if (auto s = m_db.exec(q); !s)
        return s;
    if (q.numRowsAffected() == 0)
        return ApiError::notFound(QStringLiteral("no such resource: %1").arg(id));
    return Ok{};
}

std::optional<QJsonObject> DocTable::get(const QString &id)
{
    if (auto raw = getRaw(id))
        return QJsonDocument::fromJson(*raw).object();
    return std::nullopt;
}

std::optional<QByteArray> DocTable::getRaw(const QString &id)
{
    // CAST AS BLOB hands over the stored UTF-8 bytes; reading TEXT would make the driver
    // convert to UTF-16 and back.
    QSqlQuery &q = m_db.cached(
        QStringLiteral("SELECT CAST(doc AS BLOB) FROM %1 WHERE id = ?").arg(m_table));
    q.bindValue(0, id);
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    QByteArray doc = q.value(0).toByteArray();
    q.finish();
    return doc;
}

std::optional<QJsonObject> DocTable::getWhere(const QString &id, const QString &column,
                                              const QVariant &value)
{
    QSqlQuery q = m_db.query(
        QStringLiteral("SELECT doc FROM %1 WHERE id = ? AND %2 = ?").arg(m_table, column));
    q.addBindValue(id);
    q.addBindValue(value);
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    return parseDoc(q.value(0).toString());
}

Result<Page> DocTable::list(const PageRequest &req, const QList<Filter> &filters)
{
    // The list's identity: its table, which filters apply (not their values: those may be
    // times) and its order.
    QString listId = m_table + (req.newestFirst ? QStringLiteral("|desc") : QStringLiteral("|asc"));
    for (const Filter &f : filters)
        listId += u'|' + f.sql;
    char direction = 'n';
    qint64 cursorSeq = -1;
    if (!req.page.isEmpty()) {
        QByteArray position;
        bool ok = cursors::parse(listId, req.page, direction, position) && (direction == 'n' || direction == 'p');
        if (ok)
            cursorSeq = position.toLongLong(&ok);
        if (!ok || cursorSeq < 0)
            return ApiError::invalid(QStringLiteral("`page` is not a cursor of this list"));
    }

    // List order is newest first (seq descending) unless the request says otherwise. A 'p'
    // cursor walks the other way from cursorSeq and the rows are flipped back afterwards.
    const bool desc = req.newestFirst;
    const bool backwards = direction == 'p';
    const bool scanDesc = desc != backwards;

    QStringList where;
    QVariantList values;
    for (const Filter &f : filters) {
        where << f.sql;
        values << f.values;
    }
    if (cursorSeq >= 0) {
        where << (scanDesc ? QStringLiteral("seq < ?") : QStringLiteral("seq > ?"));
        values << cursorSeq;
    }
    QString sql = QStringLiteral("SELECT seq, doc FROM %1").arg(m_table);
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    sql += scanDesc ? QStringLiteral(" ORDER BY seq DESC") : QStringLiteral(" ORDER BY seq ASC");
    sql += QStringLiteral(" LIMIT %1").arg(req.limit + 1);

    QSqlQuery q = m_db.query(sql);
    for (const QVariant &v : values)
        q.addBindValue(v);
    if (auto s = m_db.exec(q); !s)
        return s.error();

    QList<QPair<qint64, QJsonObject>> rows;
    while (q.next())
        rows.append({q.value(0).toLongLong(), parseDoc(q.value(1).toString())});
    const bool more = rows.size() > req.limit;
    if (more)
        rows.removeLast();
    if (backwards)
        std::reverse(rows.begin(), rows.end());

    Page page;
    for (const auto &r : rows)
        page.data.append(r.second);
    if (!rows.isEmpty()) {
        // Forward: more rows after the last one? Backwards: we came from a later page, so
        // there is always a next page; a previous page exists when the scan found more.
        const bool hasNext = backwards ? true : more;
        const bool hasPrev = backwards ? more : cursorSeq >= 0;
        if (hasNext)
            page.nextPage = cursors::make(listId, 'n', QByteArray::number(rows.last().first));
        if (hasPrev)
            page.prevPage = cursors::make(listId, 'p', QByteArray::number(rows.first().first));
    }
    return page;
}

} // namespace viv
