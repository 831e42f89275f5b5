#pragma once

#include <QJsonObject>
#include <QString>

namespace viv {

// The error kinds of the Managed Agents API. Services return these as values; the HTTP layer
// maps them to a status code in exactly one place (ApiError::httpStatus).
class ApiError
{
public:
    enum class Kind {
        InvalidRequest, // 400
        Conflict,       // 409, reported as invalid_request_error like the hosted API
        Authentication, // 401
        Permission,     // 403
        NotFound,       // 404
        RateLimit,      // 429
        Api,            // 500
        Overloaded,     // 529
        Unavailable,    // 503, reported as api_error (e.g. no keychain backend)
    };

    ApiError() = default;
    ApiError(Kind kind, QString message) : m_kind(kind), m_message(std::move(message)) {}

    static ApiError invalid(const QString &message) { return {Kind::InvalidRequest, message}; }
    static ApiError conflict(const QString &message) { return {Kind::Conflict, message}; }
    static ApiError notFound(const QString &message) { return {Kind::NotFound, message}; }
    static ApiError internal(const QString &message) { return {Kind::Api, message}; }
    static ApiError unavailable(const QString &message) { return {Kind::Unavailable, message}; }

    // A more specific `error.type` than the kind's (the memory API's
    // `memory_precondition_failed_error`, `memory_path_conflict_error`) and extra fields of the
    // error object (`conflicting_path`, …). The HTTP status still follows the kind.
    ApiError withType(const QString &type, const QJsonObject &extra = {}) const
    {
        ApiError e = *this;
        e.m_type = type;
        e.m_extra = extra;
        return e;
    }

    ApiError withMessage(const QString &message) const
    {
        ApiError e = *this;
        e.m_message = message;
        return e;
    }

    Kind kind() const { return m_kind; }
    const QString &message() const { return m_message; }
    const QJsonObject &extra() const { return m_extra; }

    int httpStatus() const;
    QString typeName() const;
    // {"type":"error","error":{"type":…,"message":…},"request_id":…}
    QJsonObject toJson(const QString &requestId) const;

private:
    Kind m_kind = Kind::Api;
    QString m_message;
    QString m_type; // empty: the kind's type name
    QJsonObject m_extra;
};

} // namespace viv
