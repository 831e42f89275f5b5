#include "McpDiscovery.h"

#include "CredentialBroker.h"
#include "mcp/McpClient.h"

#include <QNetworkAccessManager>
#include <QTimer>
#include <QUrl>


namespace viv {

namespace {

void probe(const QUrl &url, const QByteArray &bearer, const Callback<QJsonArray> &done)
{
    // One connection for this answer: the client is a child of its network manager; both go
    // after the answer (raw pointers in the callback: the client holds it, so no ownership cycle).
    auto *nam = new QNetworkAccessManager;
    auto *client = new mcp::Client(*nam, url, mcp::Options::fromEnvironment(), nam);
    if (!bearer.isEmpty())
        client->setBearer(bearer);
    client->open([nam, client, done](std::variant<QList<mcp::Tool>, mcp::Error> answer) {
        if (const auto *err = std::get_if<mcp::Error>(&answer)) {
            done(ApiError::unavailable(err->message));
        } else {
            QJsonArray tools;
            for (const mcp::Tool &t : std::get<QList<mcp::Tool>>(answer))
                tools.append(QJsonObject{{QStringLiteral("name"), t.name},
                                         {QStringLiteral("description"), t.description},
                                         {QStringLiteral("read_only"), t.readOnly}});
            done(tools);
        }
        client->close();       // DELETE of the MCP session, not awaited
        client->deleteLater(); // not from inside its own callback
        // The network manager a little later, so that the DELETE can go out.
        QTimer::singleShot(2000, nam, &QObject::deleteLater);
    });
}

} // namespace

void discoverMcpTools(CredentialBroker &broker, const QString &vaultId, const QString &url,
                      const Callback<QJsonArray> &done)
{
    const QUrl parsed(url.trimmed(), QUrl::StrictMode);
    if (!parsed.isValid() || (parsed.scheme() != u"http" && parsed.scheme() != u"https")
        || parsed.host().isEmpty()) {
        done(ApiError::invalid(QStringLiteral("\"%1\" is not an http(s) URL").arg(url)));
        return;
    }
    if (vaultId.isEmpty()) {
        probe(parsed, {}, done);
        return;
    }
    broker.mcpBearer(QJsonArray{vaultId}, parsed.toString(),
                     [parsed, done](Result<std::optional<CredentialBroker::McpBearer>> bearer) {
                         if (!bearer) {
                             done(bearer.error());
                             return;
                         }
                         probe(parsed, *bearer ? (*bearer)->token : QByteArray(), done);
                     });
}

} // namespace viv
