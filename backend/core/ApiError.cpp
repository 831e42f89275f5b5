#include "ApiError.h"

namespace viv {

int ApiError::httpStatus() const
{
    switch (m_kind) {
    case Kind::InvalidRequest: return 400;
    case Kind::Authentication: return 401;
    case Kind::Permission: return 403;
    case Kind::NotFound: return 404;
    case Kind::Conflict: return 409;
    case Kind::RateLimit: return 429;
    case Kind::Api: return 500;
    case Kind::Unavailable: return 503;
    case Kind::Overloaded: return 529;
    }
    return 500;
}

QString ApiError::typeName() const
{
    if (!m_type.isEmpty())
        return m_type;
    switch (m_kind) {
    case Kind::InvalidRequest:
    case Kind::Conflict: return QStringLiteral("invalid_request_error");
    case Kind::Authentication: return QStringLiteral("authentication_error");
    case Kind::Permission: return QStringLiteral("permission_error");
    case Kind::NotFound: return QStringLiteral("not_found_error");
    case Kind::RateLimit: return QStringLiteral("rate_limit_error");
    case Kind::Api:
    case Kind::Unavailable: return QStringLiteral("api_error");
    case Kind::Overloaded: return QStringLiteral("overloaded_error");
    }
    return QStringLiteral("api_error");
}

QJsonObject ApiError::toJson(const QString &requestId) const
{
    QJsonObject error = m_extra;
    error.insert(QStringLiteral("type"), typeName());
    error.insert(QStringLiteral("message"), m_message);
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("error")},
        {QStringLiteral("error"), error},
        {QStringLiteral("request_id"), requestId},
    };
}

} // namespace viv
