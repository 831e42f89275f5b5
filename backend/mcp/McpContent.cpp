#include "McpContent.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QRegularExpression>

namespace viv::mcp {

namespace {

QJsonObject text(const QString &t)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), t}};
}

QJsonObject image(const QString &mediaType, const QString &data)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("image")},
                       {QStringLiteral("source"), QJsonObject{{QStringLiteral("type"), QStringLiteral("base64")},
                                                              {QStringLiteral("media_type"), mediaType},
                                                              {QStringLiteral("data"), data}}}};
}

bool modelImageType(const QString &mime)
{
    static const QStringList ok = {QStringLiteral("image/png"), QStringLiteral("image/jpeg"),
                                   QStringLiteral("image/gif"), QStringLiteral("image/webp")};
    return ok.contains(mime);
}

} // namespace

QString modelToolName(const QString &server, const QString &tool)
{
    static const QRegularExpression invalid(QStringLiteral("[^a-zA-Z0-9_-]"));
    QString s = server, t = tool;
    s.replace(invalid, QStringLiteral("_"));
    t.replace(invalid, QStringLiteral("_"));
    QString plain = QStringLiteral("mcp__") + s + QStringLiteral("__") + t;
    const bool clean = s == server && t == tool && !server.isEmpty() && !tool.isEmpty()
                       && !server.contains(QStringLiteral("__")) && !server.startsWith(u'_') && !server.endsWith(u'_');
    if (clean && plain.size() <= 64)
        return plain;
    const QByteArray digest =
        QCryptographicHash::hash((server + QChar(0) + tool).toUtf8(), QCryptographicHash::Sha1).toHex().left(8);
    return plain.left(55) + u'_' + QString::fromLatin1(digest);
}

QString modelToolPrefix(const QString &server)
{
    static const QRegularExpression invalid(QStringLiteral("[^a-zA-Z0-9_-]"));
    QString s = server;
    s.replace(invalid, QStringLiteral("_"));
    // Both forms above start with the plain name's first 55 characters, which start like this.
    return QString(QStringLiteral("mcp__") + s + QStringLiteral("__")).left(55);
}

QJsonArray toResultBlocks(const QJsonObject &result)
{
    QJsonArray out;
    bool hasText = false;
    for (const QJsonValue &v : result.value(QStringLiteral("content")).toArray()) {
        const QJsonObject c = v.toObject();
        const QString type = c.value(QStringLiteral("type")).toString();
        const QString mime = c.value(QStringLiteral("mimeType")).toString();
        if (type == u"text") {
            out.append(text(c.value(QStringLiteral("text")).toString()));
            hasText = true;
        } else if (type == u"image") {
            if (modelImageType(mime))
                out.append(image(mime, c.value(QStringLiteral("data")).toString()));
            else
                out.append(
                    text(QStringLiteral("[image of type %1 not shown: the model accepts png, jpeg, gif and webp]")
                             .arg(mime)));
        } else if (type == u"audio") {
            out.append(text(QStringLiteral("[audio (%1) not shown: the model does not take audio]").arg(mime)));
        } else if (type == u"resource") {
            const QJsonObject r = c.value(QStringLiteral("resource")).toObject();
            const QString uri = r.value(QStringLiteral("uri")).toString();
            const QString rmime = r.value(QStringLiteral("mimeType")).toString();
            if (r.contains(QStringLiteral("text"))) {
                out.append(text(QStringLiteral("[resource %1%2]\n%3")
                                    .arg(uri, rmime.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(rmime),
                                         r.value(QStringLiteral("text")).toString())));
                hasText = true;
            } else if (modelImageType(rmime)) {
                out.append(text(QStringLiteral("[resource %1]").arg(uri)));
                out.append(image(rmime, r.value(QStringLiteral("blob")).toString()));
            } else {
                const qsizetype bytes = r.value(QStringLiteral("blob")).toString().size() * 3 / 4;
                out.append(text(QStringLiteral("[resource %1 (%2): about %3 bytes of binary content, not shown]")
                                    .arg(uri, rmime.isEmpty() ? QStringLiteral("binary") : rmime)
                                    .arg(bytes)));
            }
        } else if (type == u"resource_link") {
            QString line =
                QStringLiteral("[resource link] %1: %2")
                    .arg(c.value(QStringLiteral("name")).toString(), c.value(QStringLiteral("uri")).toString());
            if (!mime.isEmpty())
                line += QStringLiteral(" (%1)").arg(mime);
            if (const QString d = c.value(QStringLiteral("description")).toString(); !d.isEmpty())
                line += QStringLiteral(" — ") + d;
            out.append(text(line));
        } else if (!type.isEmpty()) {
            out.append(text(QStringLiteral("[content of type \"%1\" not shown]").arg(type)));
        }
    }
    const QJsonValue structured = result.value(QStringLiteral("structuredContent"));
    if (!hasText && structured.isObject())
        out.append(text(QString::fromUtf8(QJsonDocument(structured.toObject()).toJson(QJsonDocument::Compact))));
    if (out.isEmpty())
        out.append(text(QStringLiteral("(the tool returned no content)")));
    return out;
}

} // namespace viv::mcp
