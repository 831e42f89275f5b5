// AgentService's versions: every saved version of an agent is kept (agent_versions), listed
// newest first and snapshotted into sessions.
#include "AgentService.h"
#include "AgentInternal.h"

#include "store/Database.h"

#include <QJsonArray>

namespace viv {

using namespace Qt::StringLiterals;
using namespace agent_detail;

namespace {

// Versions cursor: base64url("v<version>"), the last version on the previous page.
QString makeVersionCursor(int version)
{
    return QString::fromLatin1(QByteArray("v" + QByteArray::number(version))
                                   .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

std::optional<int> parseVersionCursor(const QString &cursor)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        cursor.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() < 2 || decoded.decoded.at(0) != 'v')
        return std::nullopt;
    bool ok = false;
    const int v = decoded.decoded.mid(1).toInt(&ok);
    if (!ok || v < 1)
        return std::nullopt;
    return v;
}

} // namespace

Result<QJsonObject> AgentService::loadVersion(const QString &id, int version)
{
    QSqlQuery q = m_db.query(u"SELECT doc FROM agent_versions WHERE agent_id = ? AND version = ?"_s);
    q.addBindValue(id);
    q.addBindValue(version);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    if (!q.next())
        return ApiError::notFound(u"agent %1 has no version %2"_s.arg(id).arg(version));
    return parseDoc(q.value(0).toString());
}

Status AgentService::insertVersion(const QJsonObject &agent)
{
    QSqlQuery q = m_db.query(u"INSERT INTO agent_versions (agent_id, version, created_at, doc) VALUES (?, ?, ?, ?)"_s);
    q.addBindValue(agent.value(u"id"_s).toString());
    q.addBindValue(agent.value(u"version"_s).toInt());
    q.addBindValue(agent.value(u"updated_at"_s).toString());
    q.addBindValue(serializeDoc(agent));
    return m_db.exec(q);
}
Result<Page> AgentService::versions(const QString &id, const PageRequest &page)
{
    const auto current = load(id);
    if (!current)
        return ApiError::notFound(u"agent %1 not found"_s.arg(id));
    std::optional<int> before;
    if (!page.page.isEmpty()) {
        before = parseVersionCursor(page.page);
        if (!before)
            return ApiError::invalid(u"`page` is not a valid cursor"_s);
    }
    QString sql = u"SELECT version, doc FROM agent_versions WHERE agent_id = ?"_s;
    if (before)
        sql += u" AND version < ?"_s;
    sql += u" ORDER BY version DESC LIMIT %1"_s.arg(page.limit + 1);
    QSqlQuery q = m_db.query(sql);
    q.addBindValue(id);
    if (before)
        q.addBindValue(*before);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    Page out;
    int lastVersion = 0;
    int rows = 0;
    bool more = false;
    const QJsonValue archivedAt = current->doc.value(u"archived_at"_s);
    while (q.next()) {
        if (rows == page.limit) {
            more = true;
            break;
        }
        QJsonObject doc = parseDoc(q.value(1).toString());
        doc.insert(u"archived_at"_s, archivedAt);
        out.data.append(doc);
        lastVersion = q.value(0).toInt();
        ++rows;
    }
    if (more)
        out.nextPage = makeVersionCursor(lastVersion);
    return out;
}

Result<QJsonObject> AgentService::snapshot(const QString &id, std::optional<int> version)
{
    auto agent = retrieve(id, version);
    if (!agent)
        return agent;
    if (!agent->value(u"archived_at"_s).isNull())
        return ApiError::invalid(u"agent %1 is archived; archived agents cannot be used by new "
                                 u"sessions"_s.arg(id));
    QJsonObject out;
    for (const QString &key : {u"id"_s, u"type"_s, u"version"_s, u"name"_s, u"description"_s, u"system"_s, u"model"_s,
                               u"tools"_s, u"mcp_servers"_s, u"skills"_s, u"execution_identity"_s, u"multiagent"_s})
        out.insert(key, agent->value(key));
    return out;
}

} // namespace viv
