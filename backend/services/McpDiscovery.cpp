#include "McpDiscovery.h"

#include "CredentialBroker.h"
#include "mcp/McpClient.h"

#include <QNetworkAccessManager>
#include <QTimer>
#include <QUrl>

#include <memory>

namespace viv {

namespace {

void probe(const QUrl &url, const QByteArray &bearer, const Callback<QJsonArray> &done)
{
    // The connection lives until its answer; it is torn down after the callback returns.
    auto nam = std::make_shared<QNetworkAccessManager>();
    auto client = std::make_shared<mcp::Client>(*nam, url, mcp::Options::fromEnvironment());
    if (!bearer.isEmpty())
        client->setBearer(bearer);
    client->open([nam, client, done](std::variant<QList<mcp::Tool>, mcp::Error> answer) mutable {
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
        client->close();
        // Not from inside the client's own callback: delete on the next turn of the loop.
        QTimer::singleShot(0, [nam, client]() mutable {
            client.reset();
            nam.reset();
        });
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
