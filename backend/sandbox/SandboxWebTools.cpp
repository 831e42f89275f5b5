#include "SandboxToolExecutor.h"
#include "SandboxToolExecutorState.h"

#include "SandboxProgress.h"
#include "SessionSandboxSetup.h"

#include "BuiltinTools.h"
#include "SandboxManager.h"
#include "core/Validators.h"

#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QUrlQuery>

namespace viv {

using namespace tools;
using namespace sandbox_tools;

// ---- web ------------------------------------------------------------------------------------

void SandboxToolExecutor::runWebFetch(const std::shared_ptr<Op> &op)
{
    const QUrl url(op->call.input.value(QStringLiteral("url")).toString(), QUrl::StrictMode);
    if (!validate::isHttpUrl(url))
        return finish(op, ToolResult::error(QStringLiteral("web_fetch: `url` must be an absolute http(s) URL")));
    httpGet(op, url, true, QStringLiteral("web_fetch"));
}

void SandboxToolExecutor::runWebSearch(const std::shared_ptr<Op> &op)
{
    const QString query = op->call.input.value(QStringLiteral("query")).toString();
    if (query.trimmed().isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("web_search: `query` is required")));
    if (m_options.webSearchUrl.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("web_search: no search endpoint configured (set "
                                                           "VIVARIUM_WEB_SEARCH_URL to a search service's URL)")));
    QUrl url;
    if (m_options.webSearchUrl.contains(QLatin1String("{query}"))) {
        QString u = m_options.webSearchUrl;
        u.replace(QLatin1String("{query}"), QString::fromLatin1(QUrl::toPercentEncoding(query)));
        url = QUrl(u);
    } else {
        url = QUrl(m_options.webSearchUrl);
        QUrlQuery q(url);
        q.addQueryItem(QStringLiteral("q"), QString::fromLatin1(QUrl::toPercentEncoding(query)));
        url.setQuery(q);
    }
    // The endpoint is the operator's configuration, not the model's choice: no host policy check.
    httpGet(op, url, false, QStringLiteral("web_search"));
}

void SandboxToolExecutor::httpGet(const std::shared_ptr<Op> &op, const QUrl &url, bool checkHosts, const QString &what)
{
    const QJsonObject env = m_environments ? m_environments(op->call.environmentId) : QJsonObject();
    if (checkHosts && !hostAllowed(env, url.host(), quint16(url.port(url.scheme() == u"https" ? 443 : 80))))
        return finish(op, ToolResult::error(QStringLiteral("%1: the host %2 is not allowed by this environment's "
                                                           "networking policy (limited; allowed_hosts)")
                                                .arg(what, url.host())));
    QNetworkRequest req(url);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::UserVerifiedRedirectPolicy);
    req.setMaximumRedirectsAllowed(10);
    req.setTransferTimeout(kFetchTimeoutMs);
    req.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Vivarium-web_fetch/1"));
    QNetworkReply *reply = m_nam.get(req);
    auto body = std::make_shared<QByteArray>();
    auto truncated = std::make_shared<bool>(false);
    QPointer<QNetworkReply> guard(reply);
    op->onCancel = [guard] {
        if (guard)
            guard->abort();
    };
    connect(reply, &QNetworkReply::redirected, reply, [reply, env, checkHosts](const QUrl &to) {
        if (checkHosts && !hostAllowed(env, to.host(), quint16(to.port(to.scheme() == u"https" ? 443 : 80)))) {
            reply->setProperty("vivDenied", to.host());
            reply->abort();
            return;
        }
        Q_EMIT reply->redirectAllowed();
    });
    connect(reply, &QNetworkReply::readyRead, reply, [reply, body, truncated] {
        *body += reply->readAll();
        if (body->size() > kFetchMaxBytes) {
            body->truncate(kFetchMaxBytes);
            *truncated = true;
            reply->setProperty("vivTruncated", true);
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, body, truncated, op, what, url] {
        reply->deleteLater();
        if (op->finished)
            return;
        if (!*truncated)
            *body += reply->readAll();
        const QString denied = reply->property("vivDenied").toString();
        if (!denied.isEmpty())
            return finish(op, ToolResult::error(QStringLiteral("%1: %2 redirected to %3, which this environment's "
                                                               "networking policy does not allow").arg(what, url.toString(), denied)));
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() != QNetworkReply::NoError && !*truncated && status == 0)
            return finish(op, ToolResult::error(QStringLiteral("%1: fetching %2 failed: %3")
                                                    .arg(what, url.toString(), reply->errorString())));
        const QString type = reply->header(QNetworkRequest::ContentTypeHeader).toString().toLower();
        const bool html = type.contains(QLatin1String("html"));
        const bool isText = type.isEmpty() || type.startsWith(QLatin1String("text/")) || type.contains(QLatin1String("json"))
                            || type.contains(QLatin1String("xml")) || type.contains(QLatin1String("javascript"));
        if (!isText)
            return finish(op, ToolResult::error(QStringLiteral("%1: %2 returned %3, which is not text; download it in the "
                                                               "sandbox with bash (curl) instead").arg(what, url.toString(), type)));
        QString content = QString::fromUtf8(*body);
        if (html)
            content = htmlToText(content);
        QString out = QStringLiteral("URL: %1\nStatus: %2\nContent-Type: %3\n\n%4")
                          .arg(reply->url().toString())
                          .arg(status)
                          .arg(type.isEmpty() ? QStringLiteral("(none)") : type, content);
        if (*truncated)
            out += QStringLiteral("\n[content truncated at %1 KiB]").arg(kFetchMaxBytes / 1024);
        finish(op, text(out, status >= 400));
    });
}

} // namespace viv
