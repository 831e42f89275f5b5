#include "EnvironmentsController.h"

#include "ApiServer.h"
#include "services/EnvironmentService.h"

namespace viv {

void registerEnvironmentRoutes(ApiServer &server, EnvironmentService &service)
{
    using M = ApiServer::Method;
    server.route(M::Post, QStringLiteral("/v1/environments"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.create(*body));
    });
    server.route(M::Get, QStringLiteral("/v1/environments"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest();
        auto archived = req.queryBool(QStringLiteral("include_archived"), false);
        if (!page)
            return reply->error(page.error());
        if (!archived)
            return reply->error(archived.error());
        reply->sendPage(service.list(*page, *archived));
    });
    server.route(M::Get, QStringLiteral("/v1/environments/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.retrieve(req.param(0)));
    });
    server.route(M::Post, QStringLiteral("/v1/environments/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.update(req.param(0), *body));
    });
    server.route(M::Delete, QStringLiteral("/v1/environments/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.remove(req.param(0)));
    });
    server.route(M::Post, QStringLiteral("/v1/environments/{id}/archive"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.archive(req.param(0)));
    });
}

} // namespace viv
