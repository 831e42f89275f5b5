#include "FilesController.h"

#include "ApiServer.h"
#include "Multipart.h"
#include "services/FileService.h"

#include <QUrl>

namespace viv {

namespace {

static_assert(FileService::kMaxFileBytes <= ApiServer::kMaxBodyBytes,
              "a file can never be larger than the request body that carries it");

struct UploadForm
{
    multipart::Part file;
    std::optional<qint64> expiresInSeconds;
};

Result<UploadForm> readUploadForm(const ApiRequest &req)
{
    auto boundary = multipart::boundaryFromContentType(req.header("Content-Type"));
    if (!boundary)
        return boundary.error();
    auto parts = multipart::parse(req.body, *boundary);
    if (!parts)
        return parts.error();
    UploadForm form;
    bool haveFile = false;
    for (multipart::Part &p : *parts) {
        if (p.name == u"file") {
            if (haveFile)
                return ApiError::invalid(QStringLiteral("the form has more than one `file` part; upload one file per request"));
            haveFile = true;
            form.file = std::move(p);
        } else if (p.name == u"expires_in_seconds") {
            if (form.expiresInSeconds)
                return ApiError::invalid(QStringLiteral("`expires_in_seconds` is given twice"));
            bool ok = false;
            const QByteArray text = p.body.trimmed();
            const qint64 v = text.toLongLong(&ok);
            if (!ok || p.filename)
                return ApiError::invalid(QStringLiteral("`expires_in_seconds` must be an integer number of seconds"));
            form.expiresInSeconds = v;
        } else {
            return ApiError::invalid(
                QStringLiteral("unexpected form field `%1`: Extra inputs are not permitted (expected "
                               "`file` and optionally `expires_in_seconds`)")
                    .arg(p.name.left(64)));
        }
    }
    if (!haveFile)
        return ApiError::invalid(QStringLiteral("the form has no `file` part: send the file as a "
                                                "multipart form field named `file`"));
    return form;
}

// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266).
QByteArray contentDisposition(const QString &filename)
{
    QByteArray ascii;
    for (QChar c : filename) {
        const char16_t u = c.unicode();
        ascii += (u >= 0x20 && u < 0x7f && u != '"' && u != '\\') ? char(u) : '_';
    }
    return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''"
           + filename.toUtf8().toPercentEncoding();
}

} // namespace

void registerFileRoutes(ApiServer &server, FileService &service)
{
    using M = ApiServer::Method;
    server.route(M::Post, QStringLiteral("/v1/files"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto form = readUploadForm(req);
        if (!form)
            return reply->error(form.error());
        reply->send(service.upload(form->file.filename.value_or(QString()),
                                   QString::fromUtf8(form->file.contentType), form->file.body,
                                   form->expiresInSeconds));
    });
    server.route(M::Get, QStringLiteral("/v1/files"), [&service](const ApiRequest &req, ReplyPtr reply) {
        // `ids[]=…` as the SDK sends it, `ids=…`, or comma lists.
        QStringList ids;
        for (const QString &value : req.queryValues(QStringLiteral("ids"))) {
            for (const QString &id : value.split(u',', Qt::SkipEmptyParts))
                ids << id.trimmed();
        }
        if (!ids.isEmpty()
            && (req.query.hasQueryItem(QStringLiteral("page")) || req.query.hasQueryItem(QStringLiteral("limit"))))
            return reply->error(ApiError::invalid(QStringLiteral("`ids` cannot be combined with `page` or `limit`")));
        auto page = req.pageRequest(20, 100);
        if (!page)
            return reply->error(page.error());
        const QString scopeId = req.query.queryItemValue(QStringLiteral("scope_id"), QUrl::FullyDecoded);
        reply->sendPage(service.list(*page, ids, scopeId));
    });
    server.route(M::Get, QStringLiteral("/v1/files/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.retrieve(req.param(0)));
    });
    server.route(M::Get, QStringLiteral("/v1/files/{id}/content"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto content = service.content(req.param(0));
        if (!content)
            return reply->error(content.error());
        const QJsonObject &meta = content->first;
        reply->bytes(200, content->second, meta.value(QStringLiteral("mime_type")).toString().toUtf8(),
                     {{"Content-Disposition", contentDisposition(meta.value(QStringLiteral("filename")).toString())},
                      {"X-Content-Type-Options", "nosniff"}});
    });
    server.route(M::Delete, QStringLiteral("/v1/files/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.remove(req.param(0)));
    });
}

} // namespace viv
