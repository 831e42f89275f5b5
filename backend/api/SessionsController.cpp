#include "SessionsController.h"

#include "ApiServer.h"
#include "SseHub.h"
#include "services/EventLog.h"
#include "services/SessionService.h"

namespace viv {

namespace {

Result<bool> parseOrder(const ApiRequest &req, bool ascendingByDefault)
{
    const QString order = req.queryValue(QStringLiteral("order"));
    if (order.isEmpty())
        return ascendingByDefault;
    if (order == u"asc")
        return true;
    if (order == u"desc")
        return false;
    return ApiError::invalid(QStringLiteral("`order` must be asc or desc, got \"%1\"").arg(order));
}

// A callback that answers the request when the service is done (keeps the reply alive): for
// the operations that may touch the keychain (repository tokens).
Callback<QJsonObject> answer(ReplyPtr reply)
{
    return [reply = std::move(reply)](const Result<QJsonObject> &result) { reply->send(result); };
}

} // namespace

void registerSessionRoutes(ApiServer &server, SessionService &service, EventLog &log, SseHub &hub)
{
    using M = ApiServer::Method;
    QObject::connect(&service, &SessionService::removed, &hub,
                     [&hub](const QString &id) { hub.closeSession(id, true); });

    server.route(M::Post, QStringLiteral("/v1/sessions"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        service.create(*body, answer(std::move(reply)));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest(20, 100);
        if (!page)
            return reply->error(page.error());
        auto order = parseOrder(req, false);
        if (!order)
            return reply->error(order.error());
        auto archived = req.queryBool(QStringLiteral("include_archived"), false);
        if (!archived)
            return reply->error(archived.error());
        SessionService::ListQuery q;
        q.page = *page;
        q.ascending = *order;
        q.includeArchived = *archived;
        q.agentId = req.queryValue(QStringLiteral("agent_id"));
        const QString version = req.queryValue(QStringLiteral("agent_version"));
        if (!version.isEmpty()) {
            bool ok = false;
            const qint64 v = version.toLongLong(&ok);
            if (!ok || v < 1)
                return reply->error(ApiError::invalid(QStringLiteral("`agent_version` must be an integer >= 1")));
            q.agentVersion = v;
        }
        q.statuses = req.queryValues(QStringLiteral("statuses"));
        q.createdGt = req.queryValue(QStringLiteral("created_at[gt]"));
        q.createdGte = req.queryValue(QStringLiteral("created_at[gte]"));
        q.createdLt = req.queryValue(QStringLiteral("created_at[lt]"));
        q.createdLte = req.queryValue(QStringLiteral("created_at[lte]"));
        q.deploymentId = req.queryValue(QStringLiteral("deployment_id"));
        q.memoryStoreId = req.queryValue(QStringLiteral("memory_store_id"));
        reply->sendPage(service.list(q), true);
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.retrieve(req.param(0)));
    });
    server.route(M::Post, QStringLiteral("/v1/sessions/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody(true);
        if (!body)
            return reply->error(body.error());
        reply->send(service.update(req.param(0), *body));
    });
    server.route(M::Delete, QStringLiteral("/v1/sessions/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        service.remove(req.param(0), answer(std::move(reply)));
    });
    server.route(M::Post, QStringLiteral("/v1/sessions/{id}/archive"), [&service](const ApiRequest &req, ReplyPtr reply) {
        service.archive(req.param(0), answer(std::move(reply)));
    });

    // Resources.
    server.route(M::Post, QStringLiteral("/v1/sessions/{id}/resources"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        service.addResource(req.param(0), *body, answer(std::move(reply)));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/resources"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest(20, 100);
        if (!page)
            return reply->error(page.error());
        reply->sendPage(service.listResources(req.param(0), *page));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/resources/{rid}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.retrieveResource(req.param(0), req.param(1)));
    });
    server.route(M::Post, QStringLiteral("/v1/sessions/{id}/resources/{rid}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody(true);
        if (!body)
            return reply->error(body.error());
        service.updateResource(req.param(0), req.param(1), *body, answer(std::move(reply)));
    });
    server.route(M::Delete, QStringLiteral("/v1/sessions/{id}/resources/{rid}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        service.removeResource(req.param(0), req.param(1), answer(std::move(reply)));
    });

    // Events.
    server.route(M::Post, QStringLiteral("/v1/sessions/{id}/events"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        // Answered once the events are durable (group commit: EventLog::appendGrouped).
        service.sendEvents(req.param(0), *body, answer(std::move(reply)));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/events"), [&service, &log](const ApiRequest &req, ReplyPtr reply) {
        if (!service.exists(req.param(0)))
            return reply->error(ApiError::notFound(QStringLiteral("session %1 not found").arg(req.param(0))));
        auto page = req.pageRequest(1000, 1000);
        if (!page)
            return reply->error(page.error());
        auto order = parseOrder(req, true);
        if (!order)
            return reply->error(order.error());
        EventLog::Filter filter;
        filter.types = req.queryValues(QStringLiteral("types"));
        for (const QString &t : std::as_const(filter.types)) {
            if (!EventLog::eventTypes().contains(t))
                return reply->error(ApiError::invalid(QStringLiteral("`types[]`: unknown event type \"%1\"").arg(t)));
        }
        filter.createdGt = req.queryValue(QStringLiteral("created_at[gt]"));
        filter.createdGte = req.queryValue(QStringLiteral("created_at[gte]"));
        filter.createdLt = req.queryValue(QStringLiteral("created_at[lt]"));
        filter.createdLte = req.queryValue(QStringLiteral("created_at[lte]"));
        reply->sendPage(log.list(req.param(0), *page, *order, filter));
    });
    server.route(M::Get, QStringLiteral("/v1/sessions/{id}/events/stream"),
                 [&service, &log, &hub](const ApiRequest &req, ReplyPtr reply) {
        const QString id = req.param(0);
        if (!service.exists(id))
            return reply->error(ApiError::notFound(QStringLiteral("session %1 not found").arg(id)));
        const QStringList deltas = req.queryValues(QStringLiteral("event_deltas"));
        if (deltas.size() > 100)
            return reply->error(ApiError::invalid(QStringLiteral("`event_deltas[]`: at most 100 values are allowed")));
        for (const QString &d : deltas) {
            if (!SseHub::deltaTypes().contains(d))
                return reply->error(ApiError::invalid(
                    QStringLiteral("`event_deltas[]` must be one of %1, got \"%2\"")
                        .arg(SseHub::deltaTypes().join(QStringLiteral(", ")), d)));
        }
        std::optional<qint64> after;
        const QString lastId = QString::fromUtf8(req.header("Last-Event-ID")).trimmed();
        if (!lastId.isEmpty()) {
            after = log.seqOf(lastId, id);
            if (!after)
                return reply->error(ApiError::invalid(
                    QStringLiteral("Last-Event-ID %1 is not an event of session %2").arg(lastId, id)));
        }
        hub.open(id, std::move(reply), after, deltas);
    });
}

} // namespace viv
