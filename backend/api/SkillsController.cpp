#include "SkillsController.h"

#include "ApiServer.h"
#include "Multipart.h"
#include "services/SkillService.h"

#include <QUrl>

namespace viv {

namespace {

static_assert(skills::kMaxTotalBytes <= ApiServer::kMaxBodyBytes,
              "a skill upload can never be larger than the request body that carries it");

struct UploadForm
{
    QList<skills::File> files;
    std::optional<QString> displayName;
};

// `files[]` (the SDK's spelling; `files` too) parts carry the paths in their filenames;
// `display_name` only where the skill is created.
Result<UploadForm> readUploadForm(const ApiRequest &req, bool allowDisplayName)
{
    auto boundary = multipart::boundaryFromContentType(req.header("Content-Type"));
    if (!boundary)
        return boundary.error();
    auto parts = multipart::parse(req.body, *boundary, skills::kMaxFiles + 1);
    if (!parts)
        return parts.error();
    UploadForm form;
    for (multipart::Part &p : *parts) {
        if (p.name == u"files[]" || p.name == u"files") {
            if (!p.filename)
                return ApiError::invalid(QStringLiteral("`files`: every part needs a filename: the file's path inside "
                                                        "the skill's folder, such as \"my-skill/SKILL.md\""));
            form.files.append({*p.filename, std::move(p.body)});
        } else if (allowDisplayName && p.name == u"display_name") {
            if (form.displayName)
                return ApiError::invalid(QStringLiteral("`display_name` is given twice"));
            if (p.filename)
                return ApiError::invalid(QStringLiteral("`display_name` must be a text field, not a file"));
            form.displayName = QString::fromUtf8(p.body);
        } else {
            return ApiError::invalid(QStringLiteral("unexpected form field `%1`: Extra inputs are not permitted "
                                                    "(expected `files[]`%2)")
                                         .arg(p.name.left(64),
                                              allowDisplayName ? QStringLiteral(" and optionally `display_name`")
                                                               : QString()));
        }
    }
    return form;
}

QByteArray contentDisposition(const QString &filename)
{
    QByteArray ascii;
    for (QChar c : filename) {
        const char16_t u = c.unicode();
        ascii += (u >= 0x20 && u < 0x7f && u != '"' && u != '\\') ? char(u) : '_';
    }
    return "attachment; filename=\"" + ascii + "\"";
}

} // namespace

void registerSkillRoutes(ApiServer &server, SkillService &service)
{
    using M = ApiServer::Method;
    server.route(M::Post, QStringLiteral("/v1/skills"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto form = readUploadForm(req, true);
        if (!form)
            return reply->error(form.error());
        reply->send(service.create(std::move(form->files), form->displayName));
    });
    server.route(M::Get, QStringLiteral("/v1/skills"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest(20, 100);
        if (!page)
            return reply->error(page.error());
        reply->sendPage(service.list(*page, req.queryValue(QStringLiteral("source"))));
    });
    server.route(M::Get, QStringLiteral("/v1/skills/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.retrieve(req.param(0)));
    });
    server.route(M::Delete, QStringLiteral("/v1/skills/{id}"), [&service](const ApiRequest &req, ReplyPtr reply) {
        reply->send(service.remove(req.param(0)));
    });
    server.route(M::Post, QStringLiteral("/v1/skills/{id}/versions"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto form = readUploadForm(req, false);
        if (!form)
            return reply->error(form.error());
        reply->send(service.createVersion(req.param(0), std::move(form->files)));
    });
    server.route(M::Get, QStringLiteral("/v1/skills/{id}/versions"), [&service](const ApiRequest &req, ReplyPtr reply) {
        auto page = req.pageRequest(20, 100);
        if (!page)
            return reply->error(page.error());
        reply->sendPage(service.versions(req.param(0), *page));
    });
    server.route(M::Get, QStringLiteral("/v1/skills/{id}/versions/{version}"),
                 [&service](const ApiRequest &req, ReplyPtr reply) {
                     reply->send(service.version(req.param(0), req.param(1)));
                 });
    server.route(M::Delete, QStringLiteral("/v1/skills/{id}/versions/{version}"),
                 [&service](const ApiRequest &req, ReplyPtr reply) {
                     reply->send(service.removeVersion(req.param(0), req.param(1)));
                 });
    server.route(M::Get, QStringLiteral("/v1/skills/{id}/versions/{version}/content"),
                 [&service](const ApiRequest &req, ReplyPtr reply) {
                     auto archive = service.archive(req.param(0), req.param(1));
                     if (!archive)
                         return reply->error(archive.error());
                     reply->bytes(200, archive->second, "application/zip",
                                  {{"Content-Disposition", contentDisposition(archive->first)},
                                   {"X-Content-Type-Options", "nosniff"}});
                 });
}

} // namespace viv
