#include "ThreadsController.h"

#include "ApiServer.h"
#include "SseHub.h"
#include "services/EventLog.h"
#include "services/SessionService.h"
#include "services/ThreadService.h"

namespace viv {

void registerThreadRoutes(ApiServer &server, SessionService &sessions, ThreadService &threads, EventLog &log, SseHub &hub)
{
    using M = ApiServer::Method;
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/threads"), [&threads](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest(20, 100);
        if (!page)
            return reply->error(page.error());
        reply->sendPage(threads.list(req.param(0), *page, req.queryValues(QStringLiteral("statuses"))));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/threads/{tid}"), [&threads](const ApiRequest &req, ReplyPtr reply) {
        reply->send(threads.retrieve(req.param(0), req.param(1)));
    });
    server.route(M::Post, QStringLiteral("/v1/sessions/{id}/threads/{tid}/archive"),
                 [&threads](const ApiRequest &req, ReplyPtr reply) {
        reply->send(threads.archive(req.param(0), req.param(1)));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/threads/{tid}/events"),
                 [&threads](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest(1000, 1000);
        if (!page)
            return reply->error(page.error());
        const QString order = req.queryValue(QStringLiteral("order"));
        if (!order.isEmpty() && order != u"asc" && order != u"desc")
            return reply->error(ApiError::invalid(QStringLiteral("`order` must be asc or desc, got \"%1\"").arg(order)));
        reply->sendPage(threads.events(req.param(0), req.param(1), *page, order != u"desc"));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/threads/{tid}/stream"),
                 [&sessions, &threads, &log, &hub](const ApiRequest &req, ReplyPtr reply) {
        const QString id = req.param(0);
        if (!sessions.exists(id))
            return reply->error(ApiError::notFound(QStringLiteral("session %1 not found").arg(id)));
        if (auto ok = threads.check(id, req.param(1)); !ok)
            return reply->error(ok.error());
        const QStringList deltas = req.queryValues(QStringLiteral("event_deltas"));
        if (!deltas.isEmpty())
            return reply->error(ApiError::invalid(QStringLiteral(
                "`event_deltas[]`: live previews of delegate threads are not supported by this Vivarium; omit it")));
        std::optional<qint64> after;
        const QString lastId = QString::fromUtf8(req.header("Last-Event-ID")).trimmed();
        if (!lastId.isEmpty()) {
            after = log.seqOf(lastId, id);
            if (!after)
                return reply->error(ApiError::invalid(
                    QStringLiteral("Last-Event-ID %1 is not an event of session %2").arg(lastId, id)));
        }
        hub.open(id, std::move(reply), after, {}, req.param(1));
    });
}

} // namespace viv
