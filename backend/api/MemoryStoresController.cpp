#include "MemoryStoresController.h"

#include "ApiServer.h"
#include "services/MemoryStoreService.h"

#include <functional>
#include <optional>

namespace viv {

namespace {

// Every query key of the request must be one this endpoint defines: a misspelt or unsupported
// filter is refused, never silently ignored.
Status onlyQueryKeys(const ApiRequest &req, const QStringList &allowed)
{
    const auto items = req.query.queryItems(QUrl::FullyDecoded);
    for (const auto &item : items) {
        if (!allowed.contains(item.first))
            return ApiError::invalid(
                allowed.isEmpty()
                    ? QStringLiteral("query parameter `%1` is not supported here (this endpoint takes none)")
                          .arg(item.first)
                    : QStringLiteral("query parameter `%1` is not supported here; supported: %2")
                          .arg(item.first, allowed.join(QStringLiteral(", "))));
    }
    return Ok{};
}

Result<MemoryView> viewOf(const ApiRequest &req, MemoryView def)
{
    if (!req.query.hasQueryItem(QStringLiteral("view")))
        return def;
    const QString v = req.queryValue(QStringLiteral("view"));
    if (v == u"basic")
        return MemoryView::Basic;
    if (v == u"full")
        return MemoryView::Full;
    return ApiError::invalid(QStringLiteral("`view` must be basic or full"));
}

MemoryActor actorOf(const ApiRequest &req)
{
    return MemoryActor::api(req.apiKeyId);
}

using M = ApiServer::Method;

// The route shapes of this API, one helper each. The checks run in the same order in every
// shape: the query keys, then the page (lists), then `view`, then the JSON body.

// No query parameters, no body: `call` answers.
void routePlain(ApiServer &server, M method, const QString &path,
                std::function<Result<QJsonObject>(const ApiRequest &)> call)
{
    server.route(method, path, [call = std::move(call)](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        reply->send(call(req));
    });
}

// No query parameters, a JSON object body.
void routeWithBody(ApiServer &server, M method, const QString &path,
                   std::function<Result<QJsonObject>(const ApiRequest &, const QJsonObject &)> call)
{
    server.route(method, path, [call = std::move(call)](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(call(req, *body));
    });
}

// An action with no query parameters and an empty body (or none); `what` names it in the 400
// for a body field ("archiving a memory store").
void routeAction(ApiServer &server, M method, const QString &path, const QString &what,
                 std::function<Result<QJsonObject>(const ApiRequest &)> call)
{
    server.route(method, path, [what, call = std::move(call)](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        auto body = req.jsonBody(true);
        if (!body)
            return reply->error(body.error());
        if (!body->isEmpty())
            return reply->error(
                ApiError::invalid(QStringLiteral("`%1`: %2 takes no body fields").arg(body->keys().first(), what)));
        reply->send(call(req));
    });
}

// Only `view` in the query (default `def`); with a JSON object body when `withBody`.
void routeViewed(ApiServer &server, M method, const QString &path, MemoryView def, bool withBody,
                 std::function<Result<QJsonObject>(const ApiRequest &, MemoryView, const QJsonObject &)> call)
{
    server.route(method, path, [def, withBody, call = std::move(call)](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("view")}); !s)
            return reply->error(s.error());
        auto view = viewOf(req, def);
        if (!view)
            return reply->error(view.error());
        QJsonObject body;
        if (withBody) {
            auto parsed = req.jsonBody();
            if (!parsed)
                return reply->error(parsed.error());
            body = *parsed;
        }
        reply->send(call(req, *view, body));
    });
}

// The start of a list: only `keys` in the query and a valid page; nullopt once the 400 is sent.
std::optional<PageRequest> listStart(const ApiRequest &req, const ReplyPtr &reply, const QStringList &keys)
{
    if (auto s = onlyQueryKeys(req, keys); !s) {
        reply->error(s.error());
        return std::nullopt;
    }
    auto page = req.pageRequest();
    if (!page) {
        reply->error(page.error());
        return std::nullopt;
    }
    return *page;
}

} // namespace

void registerMemoryStoreRoutes(ApiServer &server, MemoryStoreService &service)
{
    const QString stores = QStringLiteral("/v1/memory_stores");
    const QString store = QStringLiteral("/v1/memory_stores/{memory_store_id}");
    const QString memories = store + QStringLiteral("/memories");
    const QString memory = memories + QStringLiteral("/{memory_id}");
    const QString versions = store + QStringLiteral("/memory_versions");
    const QString version = versions + QStringLiteral("/{memory_version_id}");
    MemoryStoreService *svc = &service;

    // ---- stores ----
    routeWithBody(server, M::Post, stores,
                  [svc](const ApiRequest &, const QJsonObject &body) { return svc->createStore(body); });
    server.route(M::Get, stores, [svc](const ApiRequest &req, ReplyPtr reply) {
        const auto page =
            listStart(req, reply,
                      {QStringLiteral("limit"), QStringLiteral("page"), QStringLiteral("include_archived"),
                       QStringLiteral("created_at[gte]"), QStringLiteral("created_at[lte]")});
        if (!page)
            return;
        auto archived = req.queryBool(QStringLiteral("include_archived"), false);
        if (!archived)
            return reply->error(archived.error());
        reply->sendPage(svc->listStores(*page, *archived, req.queryValue(QStringLiteral("created_at[gte]")),
                                        req.queryValue(QStringLiteral("created_at[lte]"))));
    });
    routePlain(server, M::Get, store, [svc](const ApiRequest &req) { return svc->retrieveStore(req.param(0)); });
    routeWithBody(server, M::Post, store, [svc](const ApiRequest &req, const QJsonObject &body) {
        return svc->updateStore(req.param(0), body);
    });
    routePlain(server, M::Delete, store, [svc](const ApiRequest &req) { return svc->deleteStore(req.param(0)); });
    routeAction(server, M::Post, store + QStringLiteral("/archive"), QStringLiteral("archiving a memory store"),
                [svc](const ApiRequest &req) { return svc->archiveStore(req.param(0)); });

    // ---- memories ----
    routeViewed(server, M::Post, memories, MemoryView::Basic, true,
                [svc](const ApiRequest &req, MemoryView view, const QJsonObject &body) {
                    return svc->createMemory(req.param(0), body, view, actorOf(req));
                });
    server.route(M::Get, memories, [svc](const ApiRequest &req, ReplyPtr reply) {
        const auto page = listStart(req, reply,
                                    {QStringLiteral("limit"), QStringLiteral("page"), QStringLiteral("view"),
                                     QStringLiteral("path_prefix"), QStringLiteral("depth")});
        if (!page)
            return;
        auto view = viewOf(req, MemoryView::Basic);
        if (!view)
            return reply->error(view.error());
        MemoryStoreService::ListQuery query;
        query.view = *view;
        query.pathPrefix = req.queryValue(QStringLiteral("path_prefix"));
        if (req.query.hasQueryItem(QStringLiteral("path_prefix")) && query.pathPrefix.isEmpty())
            return reply->error(ApiError::invalid(QStringLiteral("`path_prefix` must not be empty; omit it "
                                                                 "to list the whole store")));
        if (req.query.hasQueryItem(QStringLiteral("depth"))) {
            bool ok = false;
            query.depth = req.queryValue(QStringLiteral("depth")).toInt(&ok);
            if (!ok)
                return reply->error(ApiError::invalid(QStringLiteral("`depth` must be an integer")));
        }
        reply->sendPage(svc->listMemories(req.param(0), query, *page));
    });
    routeViewed(server, M::Get, memory, MemoryView::Full, false,
                [svc](const ApiRequest &req, MemoryView view, const QJsonObject &) {
                    return svc->retrieveMemory(req.param(0), req.param(1), view);
                });
    // The SDK updates with POST; the API reference lists PATCH: both are the same update.
    for (M method : {M::Post, M::Patch}) {
        routeViewed(server, method, memory, MemoryView::Basic, true,
                    [svc](const ApiRequest &req, MemoryView view, const QJsonObject &body) {
                        return svc->updateMemory(req.param(0), req.param(1), body, view, actorOf(req));
                    });
    }
    server.route(M::Delete, memory, [svc](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("expected_content_sha256")}); !s)
            return reply->error(s.error());
        const QString expected = req.queryValue(QStringLiteral("expected_content_sha256"));
        if (req.query.hasQueryItem(QStringLiteral("expected_content_sha256")) && expected.isEmpty())
            return reply->error(ApiError::invalid(
                QStringLiteral("`expected_content_sha256` must be 64 lowercase hexadecimal characters")));
        reply->send(svc->deleteMemory(req.param(0), req.param(1), expected, actorOf(req)));
    });

    // ---- versions ----
    server.route(M::Get, versions, [svc](const ApiRequest &req, ReplyPtr reply) {
        const auto page =
            listStart(req, reply,
                      {QStringLiteral("limit"), QStringLiteral("page"), QStringLiteral("view"),
                       QStringLiteral("memory_id"), QStringLiteral("operation"), QStringLiteral("session_id"),
                       QStringLiteral("api_key_id"), QStringLiteral("service_account_id"),
                       QStringLiteral("created_at[gte]"), QStringLiteral("created_at[lte]")});
        if (!page)
            return;
        auto view = viewOf(req, MemoryView::Basic);
        if (!view)
            return reply->error(view.error());
        MemoryStoreService::VersionQuery query;
        query.view = *view;
        query.memoryId = req.queryValue(QStringLiteral("memory_id"));
        query.operation = req.queryValue(QStringLiteral("operation"));
        query.sessionId = req.queryValue(QStringLiteral("session_id"));
        query.apiKeyId = req.queryValue(QStringLiteral("api_key_id"));
        query.serviceAccountId = req.queryValue(QStringLiteral("service_account_id"));
        query.createdGte = req.queryValue(QStringLiteral("created_at[gte]"));
        query.createdLte = req.queryValue(QStringLiteral("created_at[lte]"));
        reply->sendPage(svc->listVersions(req.param(0), query, *page));
    });
    routeViewed(server, M::Get, version, MemoryView::Full, false,
                [svc](const ApiRequest &req, MemoryView view, const QJsonObject &) {
                    return svc->retrieveVersion(req.param(0), req.param(1), view);
                });
    routeAction(server, M::Post, version + QStringLiteral("/redact"), QStringLiteral("redacting a memory version"),
                [svc](const ApiRequest &req) { return svc->redactVersion(req.param(0), req.param(1), actorOf(req)); });
}

} // namespace viv
