#include "AgentsController.h"

#include "ApiServer.h"
#include "services/AgentService.h"

namespace viv {

namespace {

// `?version=N` of a retrieve: absent = latest; otherwise an integer ≥ 1.
Result<std::optional<int>> versionParam(const ApiRequest &req)
{
    const auto items = req.query.queryItems(QUrl::FullyDecoded);
    for (const auto &item : items) {
        if (item.first != u"version")
            continue;
        bool ok = false;
        const int v = item.second.toInt(&ok);
        if (!ok || v < 1)
            return ApiError::invalid(QStringLiteral("`version` must be an integer of at least 1"));
        return std::optional<int>(v);
    }
    return std::optional<int>();
}

} // namespace

void registerAgentRoutes(ApiServer &server, AgentService &service)
{
    using M = ApiServer::Method;
    server.route(M::Post, QStringLiteral("/v1/agents"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.create(*body));
    });
    server.route(M::Get, QStringLiteral("/v1/agents"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
        auto archived = req.queryBool(QStringLiteral("include_archived"), false);
        if (!archived)
            return reply->error(archived.error());
        reply->sendPage(service.list(*page, *archived, req.queryValue(QStringLiteral("created_at[gte]")),
                                     req.queryValue(QStringLiteral("created_at[lte]"))));
    });
    server.route(M::Get, QStringLiteral("/v1/agents/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto version = versionParam(req);
        if (!version)
            return reply->error(version.error());
        if (!*version) {
            // Current version: the stored document is the response, bytes as stored.
            auto raw = service.retrieveRaw(req.param(0));
            if (!raw)
                return reply->error(raw.error());
            return reply->bytes(200, *raw, "application/json");
        }
        reply->send(service.retrieve(req.param(0), *version));
    });
    server.route(M::Post, QStringLiteral("/v1/agents/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.update(req.param(0), *body));
    });
    server.route(M::Post, QStringLiteral("/v1/agents/{id}/archive"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.archive(req.param(0)));
    });
    server.route(M::Get, QStringLiteral("/v1/agents/{id}/versions"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
        reply->sendPage(service.versions(req.param(0), *page));
    });
}

} // namespace viv
