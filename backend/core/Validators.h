#pragma once
// One place for the checks the API applies to URLs, host names, mount paths and skill
// references. Services call these; each keeps its own error wording where clients rely on it.
#include "Result.h"

#include <QJsonArray>
#include <QString>
#include <QUrl>

namespace viv::validate {

// ---- URLs -----------------------------------------------------------------------------------

enum class Schemes { HttpOrHttps, HttpsOnly };

// An absolute http(s) URL with a host (QUrl::StrictMode). HttpsOnly refuses plain http.
bool isHttpUrl(const QUrl &url, Schemes schemes = Schemes::HttpOrHttps);
bool isHttpUrl(const QString &url, Schemes schemes = Schemes::HttpOrHttps);

// Why a string is not a usable http(s) URL, most basic reason first.
enum class UrlProblem { None, NotAbsolute, Scheme, UserInfo };
UrlProblem httpUrlProblem(const QString &url, bool allowUserInfo = false);

// ---- host names -----------------------------------------------------------------------------

enum HostRule : unsigned {
    PlainHost = 0,       // DNS labels (1–63 chars, letters/digits/inner hyphens) joined by dots; IPv4 passes
    Wildcard = 1u << 0,  // a leading `*.`
    Port = 1u << 1,      // a trailing `:1`…`:65535`
    BracketedIpv6 = 1u << 2, // `[::1]`, with Port also `[::1]:8080`
};
// At most 253 characters in all; no scheme, path or user info.
bool isHostName(const QString &host, unsigned rules = PlainHost);
// A host name (PlainHost) followed by an optional path suffix ("example.com/docs"), ≤ 2048 chars.
bool isHostWithPath(const QString &s);

// ---- mount paths ----------------------------------------------------------------------------

constexpr int kMaxMountPath = 1024;
// Absolute, at most kMaxMountPath characters, no `.`/`..` segment, no control character.
bool isMountPath(const QString &path);

// ---- memory paths ---------------------------------------------------------------------------

// The memory API's path rules (SDK `MemoryCreateParams.path`): starts with `/`, 1 to
// kMaxMemoryPathSegments segments, none empty, `.` or `..`; no control (Cc) or format (Cf)
// characters and no U+2028/U+2029; Unicode Normalization Form C; at most kMaxMemoryPathBytes
// bytes of UTF-8. Empty when `path` is a valid memory path, else why not (without the field name).
constexpr int kMaxMemoryPathBytes = 1024;
constexpr int kMaxMemoryPathSegments = 20;
QString memoryPathProblem(const QString &path);
// A list's `path_prefix`: `/`, or a valid memory path followed by `/`. Empty when valid.
QString memoryPathPrefixProblem(const QString &prefix);

// ---- skills ---------------------------------------------------------------------------------

// The API documents "Max 20 skills per agent" (managed-agents-tools.md → Skills; -core.md:
// `skills` … Max 20) for agents and for session `agent_with_overrides` alike.
constexpr int kMaxSkills = 20;
// `path` names the field in errors (`skills`, `agent.skills`). An array of at most kMaxSkills
// `{type: anthropic|custom, skill_id, version?}` without a repeated (type, skill_id); `version`
// defaults to "latest". Null/absent is an empty list.
Result<QJsonArray> skills(const QJsonValue &value, const QString &path);

} // namespace viv::validate
