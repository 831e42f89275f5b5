#include "MemoryStoresController.h"

#include "ApiServer.h"
#include "services/MemoryStoreService.h"

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

} // namespace

void registerMemoryStoreRoutes(ApiServer &server, MemoryStoreService &service)
{
    using M = ApiServer::Method;
    const QString stores = QStringLiteral("/v1/memory_stores");
    const QString store = QStringLiteral("/v1/memory_stores/{memory_store_id}");
    const QString memories = store + QStringLiteral("/memories");
    const QString memory = memories + QStringLiteral("/{memory_id}");
    const QString versions = store + QStringLiteral("/memory_versions");
    const QString version = versions + QStringLiteral("/{memory_version_id}");

    // ---- stores ----
    server.route(M::Post, stores, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.createStore(*body));
    });
    server.route(M::Get, stores, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("limit"), QStringLiteral("page"),
                                         QStringLiteral("include_archived"), QStringLiteral("created_at[gte]"),
                                         QStringLiteral("created_at[lte]")});
            !s)
            return reply->error(s.error());
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
        auto archived = req.queryBool(QStringLiteral("include_archived"), false);
        if (!archived)
            return reply->error(archived.error());
        reply->sendPage(service.listStores(*page, *archived, req.queryValue(QStringLiteral("created_at[gte]")),
                                           req.queryValue(QStringLiteral("created_at[lte]"))));
    });
    server.route(M::Get, store, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        reply->send(service.retrieveStore(req.param(0)));
    });
    server.route(M::Post, store, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.updateStore(req.param(0), *body));
    });
    server.route(M::Delete, store, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        reply->send(service.deleteStore(req.param(0)));
    });
    server.route(M::Post, store + QStringLiteral("/archive"), [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        auto body = req.jsonBody(true);
        if (!body)
            return reply->error(body.error());
        if (!body->isEmpty())
            return reply->error(ApiError::invalid(
                QStringLiteral("`%1`: archiving a memory store takes no body fields").arg(body->keys().first())));
        reply->send(service.archiveStore(req.param(0)));
    });

    // ---- memories ----
    server.route(M::Post, memories, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("view")}); !s)
            return reply->error(s.error());
        auto view = viewOf(req, MemoryView::Basic);
        if (!view)
            return reply->error(view.error());
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        reply->send(service.createMemory(req.param(0), *body, *view, actorOf(req)));
    });
    server.route(M::Get, memories, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("limit"), QStringLiteral("page"), QStringLiteral("view"),
                                         QStringLiteral("path_prefix"), QStringLiteral("depth")});
            !s)
            return reply->error(s.error());
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
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
        reply->sendPage(service.listMemories(req.param(0), query, *page));
    });
    server.route(M::Get, memory, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("view")}); !s)
            return reply->error(s.error());
        auto view = viewOf(req, MemoryView::Full);
        if (!view)
            return reply->error(view.error());
        reply->send(service.retrieveMemory(req.param(0), req.param(1), *view));
    });
    // The SDK updates with POST; the API reference lists PATCH: both are the same update.
    for (M method : {M::Post, M::Patch}) {
        server.route(method, memory, [&service](const ApiRequest &req, ReplyPtr reply) {
            if (auto s = onlyQueryKeys(req, {QStringLiteral("view")}); !s)
                return reply->error(s.error());
            auto view = viewOf(req, MemoryView::Basic);
            if (!view)
                return reply->error(view.error());
            auto body = req.jsonBody();
            if (!body)
                return reply->error(body.error());
            reply->send(service.updateMemory(req.param(0), req.param(1), *body, *view, actorOf(req)));
        });
    }
    server.route(M::Delete, memory, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("expected_content_sha256")}); !s)
            return reply->error(s.error());
        const QString expected = req.queryValue(QStringLiteral("expected_content_sha256"));
        if (req.query.hasQueryItem(QStringLiteral("expected_content_sha256")) && expected.isEmpty())
            return reply->error(ApiError::invalid(
                QStringLiteral("`expected_content_sha256` must be 64 lowercase hexadecimal characters")));
        reply->send(service.deleteMemory(req.param(0), req.param(1), expected, actorOf(req)));
    });

    // ---- versions ----
    server.route(M::Get, versions, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("limit"), QStringLiteral("page"), QStringLiteral("view"),
                                         QStringLiteral("memory_id"), QStringLiteral("operation"),
                                         QStringLiteral("session_id"), QStringLiteral("api_key_id"),
                                         QStringLiteral("service_account_id"), QStringLiteral("created_at[gte]"),
                                         QStringLiteral("created_at[lte]")});
            !s)
            return reply->error(s.error());
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
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
        reply->sendPage(service.listVersions(req.param(0), query, *page));
    });
    server.route(M::Get, version, [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {QStringLiteral("view")}); !s)
            return reply->error(s.error());
        auto view = viewOf(req, MemoryView::Full);
        if (!view)
            return reply->error(view.error());
        reply->send(service.retrieveVersion(req.param(0), req.param(1), *view));
    });
    server.route(M::Post, version + QStringLiteral("/redact"), [&service](const ApiRequest &req, ReplyPtr reply) {
        if (auto s = onlyQueryKeys(req, {}); !s)
            return reply->error(s.error());
        auto body = req.jsonBody(true);
        if (!body)
            return reply->error(body.error());
        if (!body->isEmpty())
            return reply->error(ApiError::invalid(
                QStringLiteral("`%1`: redacting a memory version takes no body fields").arg(body->keys().first())));
        reply->send(service.redactVersion(req.param(0), req.param(1), actorOf(req)));
    });
}

} // namespace viv
