#include "VaultsController.h"

#include "ApiServer.h"
#include "services/CredentialBroker.h"
#include "services/VaultService.h"

namespace viv {

namespace {

// A callback that answers the request when the service is done (keeps the reply alive).
Callback<QJsonObject> answer(ReplyPtr reply)
{
    return [reply = std::move(reply)](const Result<QJsonObject> &result) { reply->send(result); };
}


} // namespace

void registerVaultRoutes(ApiServer &server, VaultService &service, CredentialBroker &broker)
{
    using M = ApiServer::Method;

    // ---- vaults ----
    server.route(M::Post, QStringLiteral("/v1/vaults"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.create(*body));
    });
    server.route(M::Get, QStringLiteral("/v1/vaults"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
        auto archived = req.queryBool(QStringLiteral("include_archived"), false);
        if (!archived)
            return reply->error(archived.error());
        reply->sendPage(service.list(*page, *archived));
    });
    server.route(M::Get, QStringLiteral("/v1/vaults/{vault_id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.retrieve(req.param(0)));
    });
    server.route(M::Post, QStringLiteral("/v1/vaults/{vault_id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.update(req.param(0), *body));
    });
    server.route(M::Delete, QStringLiteral("/v1/vaults/{vault_id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        service.deleteVault(req.param(0), answer(std::move(reply)));
    });
    server.route(M::Post, QStringLiteral("/v1/vaults/{vault_id}/archive"), [&service](const ApiRequest &req, ReplyPtr reply) {
        service.archive(req.param(0), answer(std::move(reply)));
    });

    // ---- credentials ----
    server.route(M::Post, QStringLiteral("/v1/vaults/{vault_id}/credentials"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        service.createCredential(req.param(0), *body, answer(std::move(reply)));
    });
    server.route(M::Get, QStringLiteral("/v1/vaults/{vault_id}/credentials"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
        auto archived = req.queryBool(QStringLiteral("include_archived"), false);
        if (!archived)
            return reply->error(archived.error());
        reply->sendPage(service.listCredentials(req.param(0), *page, *archived));
    });
    server.route(M::Get, QStringLiteral("/v1/vaults/{vault_id}/credentials/{credential_id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.retrieveCredential(req.param(0), req.param(1)));
    });
    server.route(M::Post, QStringLiteral("/v1/vaults/{vault_id}/credentials/{credential_id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        service.updateCredential(req.param(0), req.param(1), *body, answer(std::move(reply)));
    });
    server.route(M::Delete, QStringLiteral("/v1/vaults/{vault_id}/credentials/{credential_id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        service.deleteCredential(req.param(0), req.param(1), answer(std::move(reply)));
    });
    server.route(M::Post, QStringLiteral("/v1/vaults/{vault_id}/credentials/{credential_id}/archive"), [&service](const ApiRequest &req, ReplyPtr reply) {
        service.archiveCredential(req.param(0), req.param(1), answer(std::move(reply)));
    });
    server.route(M::Post, QStringLiteral("/v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate"),
                 [&broker](const ApiRequest &req, ReplyPtr reply) {
                     broker.validateMcpOAuth(req.param(0), req.param(1), answer(std::move(reply)));
                 });
}

} // namespace viv
