#pragma once

namespace viv {
class ApiServer;
class SkillService;
// /v1/skills and /v1/skills/{id}/versions: multipart uploads (`files[]` parts whose filenames
// are the paths, plus `display_name` on create), skill and version metadata, lists, deletes and
// the version content download (a zip). Parses, calls the service, maps the result.
void registerSkillRoutes(ApiServer &server, SkillService &service);
} // namespace viv
