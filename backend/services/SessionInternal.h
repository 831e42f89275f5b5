#pragma once

// Internal to services/: what SessionService's source files share (SessionService.cpp,
// SessionCreate.cpp, SessionResources.cpp, SessionValidation.cpp): limits, document keys and
// the parameter validators.

#include "core/JsonFields.h"
#include "core/Result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QString>
#include <QStringList>

Q_DECLARE_LOGGING_CATEGORY(lcSessions)

namespace viv::session_detail {

inline constexpr int kMaxTitle = 512;
inline constexpr int kMaxTokenChars = 8192;
inline constexpr int kMaxSystem = 100000;
inline constexpr int kMaxInitialEvents = 50;
inline constexpr int kMaxResources = 100;
inline constexpr int kMaxVaults = 100;
inline constexpr int kMaxSystemBlocks = 1000;
inline constexpr int kMaxRubricChars = 262144;
inline constexpr int kDefaultMaxIterations = 3;
inline constexpr int kMaxIterations = 20;

inline const QString kType = QStringLiteral("type");
inline const QString kId = QStringLiteral("id");
inline const QString kProcessedAt = QStringLiteral("processed_at");
inline const QString kArchivedAt = QStringLiteral("archived_at");
inline const QString kUpdatedAt = QStringLiteral("updated_at");
inline const QString kCreatedAt = QStringLiteral("created_at");
inline const QString kStatus = QStringLiteral("status");
inline const QString kAgent = QStringLiteral("agent");
inline const QString kBudget = QStringLiteral("budget");
inline const QString kBudgetRemoved = QStringLiteral("_budget_removed"); // internal, never returned
// Internal, never returned: the resource's authorization_token is in the keychain.
inline const QString kTokenMarker = QStringLiteral("_token");

// "`path`: message".
QString at(const QString &path, const QString &message);
// "path[i]".
QString idx(const QString &path, qsizetype i);
bool isBase64(const QString &s);
// A git branch name that can never become an option or escape a ref path.
bool validBranch(const QString &b);

// ---- content blocks and user events (SessionValidation.cpp) ----
Result<QJsonArray> validateBlocks(JsonFields &f, QStringView key, const QStringList &allowed, bool required,
                                  int maxItems = 0);
const QStringList &messageBlockTypes();
const QStringList &toolResultBlockTypes();
const QStringList &userEventTypes();
// Structural validation of one user event param into its echo (without id; processed_at is
// set to null for events that queue, omitted — i.e. "now" — for events processed on receipt).
Result<QJsonObject> validateUserEvent(const QJsonValue &v, const QString &path, const QStringList &allowed);

// ---- other params (SessionValidation.cpp) ----
Result<QJsonObject> parseBudget(const QJsonValue &v, const QString &path);
// Why a repository token is unusable, or empty. Never quotes the token.
QString tokenProblem(const QString &token);

// ---- documents (SessionService.cpp) ----
QJsonObject zeroUsage();
// A resource document as the API returns it: without the internal `_` fields.
QJsonObject publicResource(QJsonObject r);

} // namespace viv::session_detail
