#pragma once

namespace viv {
class ApiServer;
class FileService;
// /v1/files: multipart upload, metadata, list, download, delete. Parses (multipart included),
// calls the service, maps the result. No behaviour lives here.
void registerFileRoutes(ApiServer &server, FileService &service);
} // namespace viv
