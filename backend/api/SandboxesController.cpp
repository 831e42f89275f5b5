#include "SandboxesController.h"

#include "ApiServer.h"
#include "Multipart.h"
#include "sandbox/SandboxManager.h"
#include "sandbox/SandboxTemplates.h"

#include <QJsonArray>

namespace viv {

namespace {

constexpr int kDefaultProcessTimeoutS = 300;

Result<Ok> onlyKeys(const QJsonObject &body, const QStringList &allowed)
{
    for (auto it = body.begin(); it != body.end(); ++it)
        if (!allowed.contains(it.key()))
            return ApiError::invalid(QStringLiteral("`%1`: Extra inputs are not permitted (allowed: %2)")
                                         .arg(it.key().left(64), allowed.join(QStringLiteral(", "))));
    return Ok{};
}

// Relative paths are relative to /workspace; the result is absolute.
Result<QString> guestPath(const QString &raw, const char *field)
{
    if (raw.isEmpty())
        return ApiError::invalid(QStringLiteral("`%1` is required").arg(QLatin1String(field)));
    if (raw.size() > 4096 || raw.contains(QChar(0)))
        return ApiError::invalid(QStringLiteral("`%1` is not a valid path").arg(QLatin1String(field)));
    return raw.startsWith(u'/') ? raw : QStringLiteral("/workspace/") + raw;
}

Result<SandboxManager::ExecRequest> parseProcess(const QJsonObject &body)
{
    if (auto s = onlyKeys(body, {QStringLiteral("cmd"), QStringLiteral("args"), QStringLiteral("env"),
                                 QStringLiteral("envVars"), QStringLiteral("cwd"), QStringLiteral("stdin"),
                                 QStringLiteral("timeout")});
        !s)
        return s.error();
    // `envVars` (SandBase's name) is `env`; both at once is ambiguous.
    if (body.contains(QLatin1String("env")) && body.contains(QLatin1String("envVars")))
        return ApiError::invalid(QStringLiteral("`env` and `envVars` are the same field: give one"));
    SandboxManager::ExecRequest req;
    const QJsonValue cmd = body.value(QLatin1String("cmd"));
    if (!cmd.isString() || cmd.toString().isEmpty())
        return ApiError::invalid(QStringLiteral("`cmd` must be a non-empty string (the program to run; use "
                                                "\"cmd\": \"bash\", \"args\": [\"-c\", \"…\"] for a shell line)"));
    req.argv << cmd.toString();
    if (body.contains(QLatin1String("args"))) {
        const QJsonValue args = body.value(QLatin1String("args"));
        if (!args.isArray())
            return ApiError::invalid(QStringLiteral("`args` must be an array of strings"));
        for (const QJsonValue &a : args.toArray()) {
            if (!a.isString())
                return ApiError::invalid(QStringLiteral("`args` must be an array of strings"));
            req.argv << a.toString();
        }
    }
    const QString envField = body.contains(QLatin1String("envVars")) ? QStringLiteral("envVars") : QStringLiteral("env");
    if (body.contains(envField)) {
        const QJsonValue env = body.value(envField);
        if (!env.isObject())
            return ApiError::invalid(QStringLiteral("`%1` must be an object of string values").arg(envField));
        const QJsonObject e = env.toObject();
        for (auto it = e.begin(); it != e.end(); ++it) {
            if (!it.value().isString() || it.key().isEmpty() || it.key().contains(u'='))
                return ApiError::invalid(QStringLiteral("`%1.%2` must be a string with a name without `=`")
                                             .arg(envField, it.key().left(64)));
            req.env.insert(it.key(), it.value().toString());
        }
    }
    if (body.contains(QLatin1String("cwd"))) {
        if (!body.value(QLatin1String("cwd")).isString())
            return ApiError::invalid(QStringLiteral("`cwd` must be a string"));
        auto cwd = guestPath(body.value(QLatin1String("cwd")).toString(), "cwd");
        if (!cwd)
            return cwd.error();
        req.cwd = *cwd;
    }
    if (body.contains(QLatin1String("stdin"))) {
        if (!body.value(QLatin1String("stdin")).isString())
            return ApiError::invalid(QStringLiteral("`stdin` must be a string"));
        req.stdinData = body.value(QLatin1String("stdin")).toString().toUtf8();
    }
    double timeout = kDefaultProcessTimeoutS;
    if (body.contains(QLatin1String("timeout"))) {
        const QJsonValue t = body.value(QLatin1String("timeout"));
        if (!t.isDouble() || t.toDouble() <= 0 || t.toDouble() > 86400)
            return ApiError::invalid(QStringLiteral("`timeout` must be a number of seconds in (0, 86400]"));
        timeout = t.toDouble();
    }
    req.timeoutMs = int(timeout * 1000);
    return req;
}

QJsonObject execJson(const SandboxManager::ExecResult &r)
{
    return QJsonObject{
        {QStringLiteral("stdout"), QString::fromUtf8(r.stdoutData)},
        {QStringLiteral("stderr"), QString::fromUtf8(r.stderrData)},
        {QStringLiteral("exitCode"), r.exitCode ? QJsonValue(*r.exitCode) : QJsonValue()},
        {QStringLiteral("signal"), r.signal ? QJsonValue(r.signal) : QJsonValue()},
        {QStringLiteral("timedOut"), r.timedOut},
        {QStringLiteral("truncated"), r.truncated},
    };
}

} // namespace

void registerSandboxRoutes(ApiServer &server, SandboxManager &manager, const SandboxTemplates &templates)
{
    // Served at /v1/sandboxes and, as other sandbox servers' quick starts post to
    // `BASE/sandboxes`, at /sandboxes too: the same routes, the same key.
    for (const QString &base : {QStringLiteral("/v1/sandboxes"), QStringLiteral("/sandboxes")})
        registerSandboxRoutesAt(server, base, manager, templates);
}

void registerSandboxRoutesAt(ApiServer &server, const QString &base, SandboxManager &manager,
                             const SandboxTemplates &templates)
{
    using M = ApiServer::Method;
    SandboxManager *m = &manager;
    const SandboxTemplates *t = &templates;
    auto infoReply = [](ReplyPtr reply) {
        return [reply](Result<SandboxManager::Info> r) {
            if (!r)
                return reply->error(r.error());
            reply->json(200, r->toJson());
        };
    };

    server.route(M::Post, base, [m, t, infoReply](const ApiRequest &req, ReplyPtr reply) {
        auto body = req.jsonBody(true);
        if (!body)
            return reply->error(body.error());
        if (auto s = onlyKeys(*body, {QStringLiteral("templateID"), QStringLiteral("timeout")}); !s)
            return reply->error(s.error());
        const QJsonValue tpl = body->value(QLatin1String("templateID"));
        if (!tpl.isUndefined() && !tpl.isString())
            return reply->error(ApiError::invalid(QStringLiteral("`templateID` must be a string")));
        const QJsonValue timeout = body->value(QLatin1String("timeout"));
        if (!timeout.isUndefined() && (!timeout.isDouble() || timeout.toDouble() != double(qint64(timeout.toDouble()))))
            return reply->error(ApiError::invalid(QStringLiteral("`timeout` must be an integer number of seconds")));
        if (!timeout.isUndefined() && (timeout.toDouble() < 0 || timeout.toDouble() > 7 * 24 * 3600))
            return reply->error(ApiError::invalid(QStringLiteral("`timeout` must be between 0 and 604800 seconds")));
        const int seconds = timeout.isUndefined() ? m->config().defaultTimeoutS : int(timeout.toDouble());
        t->resolve(tpl.toString(), [m, seconds, reply, infoReply](Result<SandboxManager::RawSpec> spec) {
            if (!spec)
                return reply->error(spec.error());
            m->create(*spec, seconds, infoReply(reply));
        });
    });
    server.route(M::Get, base, [m](const ApiRequest &req, ReplyPtr reply) {
        // Pages over the manager's list in its order: `limit` 1-100 (default 20) and an opaque
        // `page` cursor (the offset, bound to this list like every cursor).
        auto page = req.pageRequest();
        if (!page)
            return reply->error(page.error());
        static const QString kList = QStringLiteral("sandboxes");
        qsizetype from = 0;
        if (!page->page.isEmpty()) {
            char direction = 0;
            QByteArray position;
            bool ok = cursors::parse(kList, page->page, direction, position) && direction == 'n';
            if (ok)
                from = position.toLongLong(&ok);
            if (!ok || from < 0)
                return reply->error(ApiError::invalid(QStringLiteral("`page` is not a cursor of this list")));
        }
        const auto all = m->list();
        QJsonArray data;
        for (qsizetype i = from; i < all.size() && data.size() < page->limit; ++i)
            data << all[i].toJson();
        const qsizetype next = from + data.size();
        reply->json(200, QJsonObject{{QStringLiteral("data"), data},
                                     {QStringLiteral("next_page"), next < all.size()
                                          ? QJsonValue(cursors::make(kList, 'n', QByteArray::number(next)))
                                          : QJsonValue()}});
    });
    server.route(M::Get, base + QStringLiteral("/{id}"), [m](const ApiRequest &req, ReplyPtr reply) {
        auto info = m->get(req.param(0));
        if (!info)
            return reply->error(info.error());
        reply->json(200, info->toJson());
    });
    server.route(M::Delete, base + QStringLiteral("/{id}"), [m](const ApiRequest &req, ReplyPtr reply) {
        const QString id = req.param(0);
        m->destroy(id, [reply, id](const Result<Ok> &r) {
            if (!r)
                return reply->error(r.error());
            reply->json(200, QJsonObject{{QStringLiteral("sandboxID"), id}, {QStringLiteral("deleted"), true}});
        });
    });
    server.route(M::Post, base + QStringLiteral("/{id}/pause"), [m, infoReply](const ApiRequest &req, ReplyPtr reply) {
        m->pause(req.param(0), infoReply(reply));
    });
    server.route(M::Post, base + QStringLiteral("/{id}/resume"), [m, infoReply](const ApiRequest &req, ReplyPtr reply) {
        m->resume(req.param(0), infoReply(reply));
    });
    server.route(M::Post, base + QStringLiteral("/{id}/processes"), [m](const ApiRequest &req, ReplyPtr reply) {
        if (auto info = m->get(req.param(0)); !info)
            return reply->error(info.error());
        auto body = req.jsonBody();
        if (!body)
            return reply->error(body.error());
        auto proc = parseProcess(*body);
        if (!proc)
            return reply->error(proc.error());
        const auto handle = m->exec(req.param(0), *proc, [reply](Result<SandboxManager::ExecResult> r) {
            if (!r)
                return reply->error(r.error());
            reply->json(200, execJson(*r));
        });
        // A client that gives up (its own timeout, Ctrl-C) takes its process with it instead of
        // leaving it to run in the sandbox until the process's own timeout.
        if (handle)
            reply->onClientGone([m, handle] { m->cancelExec(handle); });
    });
    server.route(M::Post, base + QStringLiteral("/{id}/files"), [m](const ApiRequest &req, ReplyPtr reply) {
        if (auto info = m->get(req.param(0)); !info)
            return reply->error(info.error());
        auto boundary = multipart::boundaryFromContentType(req.header("Content-Type"));
        if (!boundary)
            return reply->error(boundary.error());
        auto parts = multipart::parse(req.body, *boundary);
        if (!parts)
            return reply->error(parts.error());
        std::optional<QString> path;
        std::optional<QByteArray> content;
        for (const multipart::Part &p : *parts) {
            if (p.name == u"path" && !path && !p.filename) {
                path = QString::fromUtf8(p.body);
            } else if (p.name == u"file" && !content) {
                content = p.body;
            } else {
                return reply->error(ApiError::invalid(
                    QStringLiteral("unexpected or repeated form field `%1` (expected one `path` and one `file`)").arg(p.name.left(64))));
            }
        }
        if (!content)
            return reply->error(ApiError::invalid(QStringLiteral("the form has no `file` part")));
        auto target = guestPath(path.value_or(QString()), "path");
        if (!target)
            return reply->error(target.error());
        const QString dest = *target;
        m->call(req.param(0),
                QJsonObject{{QStringLiteral("op"), QStringLiteral("write")},
                            {QStringLiteral("path"), dest},
                            {QStringLiteral("data"), QString::fromLatin1(content->toBase64())}},
                [reply, dest](Result<QJsonObject> r) {
                    if (!r)
                        return reply->error(r.error());
                    reply->json(200, QJsonObject{{QStringLiteral("path"), dest},
                                                 {QStringLiteral("size"), r->value(QLatin1String("size"))}});
                });
    });
    server.route(M::Get, base + QStringLiteral("/{id}/files"), [m](const ApiRequest &req, ReplyPtr reply) {
        if (auto info = m->get(req.param(0)); !info)
            return reply->error(info.error());
        const QString raw = req.queryValue(QStringLiteral("path"));
        auto target = guestPath(raw.isEmpty() ? QStringLiteral("/workspace") : raw, "path");
        if (!target)
            return reply->error(target.error());
        m->call(req.param(0), QJsonObject{{QStringLiteral("op"), QStringLiteral("list")}, {QStringLiteral("path"), *target}},
                [reply](Result<QJsonObject> r) {
                    if (!r)
                        return reply->error(r.error());
                    reply->json(200, QJsonObject{{QStringLiteral("data"), r->value(QLatin1String("entries"))},
                                                 {QStringLiteral("next_page"), QJsonValue()}});
                });
    });
    server.route(M::Get, base + QStringLiteral("/{id}/files/content"), [m](const ApiRequest &req, ReplyPtr reply) {
        if (auto info = m->get(req.param(0)); !info)
            return reply->error(info.error());
        auto target = guestPath(req.queryValue(QStringLiteral("path")), "path");
        if (!target)
            return reply->error(target.error());
        m->call(req.param(0),
                QJsonObject{{QStringLiteral("op"), QStringLiteral("read")},
                            {QStringLiteral("path"), *target},
                            {QStringLiteral("limit"), double(ApiServer::kMaxBodyBytes)}},
                [reply](Result<QJsonObject> r) {
                    if (!r)
                        return reply->error(r.error());
                    if (!r->value(QLatin1String("eof")).toBool())
                        return reply->error(ApiError::invalid(QStringLiteral("the file is larger than 32 MiB")));
                    reply->bytes(200, QByteArray::fromBase64(r->value(QLatin1String("data")).toString().toLatin1()),
                                 "application/octet-stream", {{"X-Content-Type-Options", "nosniff"}});
                });
    });
}

} // namespace viv
