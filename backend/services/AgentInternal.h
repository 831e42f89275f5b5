#pragma once

// Internal to services/: what AgentService's source files share (AgentService.cpp,
// AgentNormalizers.cpp, AgentVersions.cpp): limits, names and the small error helpers.

#include "core/ApiError.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>

namespace viv::agent_detail {

using namespace Qt::StringLiterals;

inline constexpr int kMaxNameLength = 256;
inline constexpr int kMaxDescriptionLength = 2048;
inline constexpr int kMaxSystemLength = 100000;
inline constexpr int kMaxModelIdLength = 256;
inline constexpr int kMaxMcpServers = 20;
inline constexpr int kMaxTools = 256;
inline constexpr int kMaxServerName = 255;
inline constexpr int kMaxUrlLength = 2048;
inline constexpr int kMaxToolName = 128;
inline constexpr int kMaxDomains = 64;
inline constexpr int kMaxToolReferences = 128;
inline constexpr int kMaxRoster = 20;
inline constexpr int kMaxRoleArn = 2048;

inline const QString kAgentToolset = u"agent_toolset_20260401"_s;
inline const QString kMcpToolset = u"mcp_toolset"_s;
inline const QString kCustom = u"custom"_s;
inline const QStringList kPolicies = {u"always_allow"_s, u"always_ask"_s, u"auto"_s};
inline const QStringList kEffortLevels = {u"low"_s, u"medium"_s, u"high"_s, u"xhigh"_s, u"max"_s};
// The per-model default effort, resolved at save time when none is given. Every model
// Vivarium serves takes "high" as its default (the hosted API's default for current models).
inline const QString kDefaultEffort = u"high"_s;

inline QString kindOf(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return u"null"_s;
    case QJsonValue::Bool: return u"a boolean"_s;
    case QJsonValue::Double: return u"a number"_s;
    case QJsonValue::String: return u"a string"_s;
    case QJsonValue::Array: return u"an array"_s;
    case QJsonValue::Object: return u"an object"_s;
    case QJsonValue::Undefined: break;
    }
    return u"undefined"_s;
}

inline ApiError badAt(const QString &path, const QString &message)
{
    return ApiError::invalid(u"`%1`: %2"_s.arg(path, message));
}

inline bool absent(const QJsonValue &v)
{
    return v.isNull() || v.isUndefined();
}

inline QJsonValue orNull(const std::optional<QString> &s)
{
    return s && !s->isEmpty() ? QJsonValue(*s) : QJsonValue(QJsonValue::Null);
}

// {"type": type}: a permission policy or effort object (AgentNormalizers.cpp).
QJsonObject policyObject(const QString &type);

} // namespace viv::agent_detail
