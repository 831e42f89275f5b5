#include "SessionService.h"

#include "EventLog.h"
#include "FileService.h"

#include <QStringDecoder>

namespace viv {

namespace {

constexpr qsizetype kMaxRubricChars = 262144; // as for a text rubric (SessionService.cpp)

} // namespace

Result<QJsonObject> SessionService::checkOutcome(const QString &sessionId, const QJsonObject &event,
                                                 const QString &path, int index)
{
    // One outcome at a time (the API's rule): a second one in the same request, or one while an
    // earlier outcome has not reached a terminal result, is refused.
    if (index > 0)
        return ApiError::invalid(QStringLiteral("`%1`: only one user.define_outcome may be sent at a time").arg(path));
    if (!sessionId.isEmpty()) {
        static const QStringList terminal = {QStringLiteral("satisfied"), QStringLiteral("max_iterations_reached"),
                                             QStringLiteral("failed"), QStringLiteral("interrupted")};
        for (const QJsonValue &v : outcomeEvaluations(sessionId)) {
            const QJsonObject o = v.toObject();
            if (!terminal.contains(o.value(QStringLiteral("result")).toString()))
                return ApiError::invalid(QStringLiteral("`%1`: outcome %2 is still %3; define the next outcome after "
                                                        "it reaches a terminal result (or interrupt it)")
                                             .arg(path, o.value(QStringLiteral("outcome_id")).toString(),
                                                  o.value(QStringLiteral("result")).toString()));
        }
    }
    const QJsonObject rubric = event.value(QStringLiteral("rubric")).toObject();
    if (rubric.value(QStringLiteral("type")).toString() != u"file")
        return event;
    // File rubrics are resolved to their text content (as the hosted API does today): the grader
    // reads the rubric as it was when the outcome was defined.
    const QString fileId = rubric.value(QStringLiteral("file_id")).toString();
    auto file = m_files.content(fileId);
    if (!file)
        return ApiError::invalid(QStringLiteral("`%1.rubric.file_id`: %2").arg(path, file.error().message()));
    QStringDecoder utf8(QStringDecoder::Utf8);
    const QString text = utf8.decode(file->second);
    if (utf8.hasError() || text.contains(QChar(0)))
        return ApiError::invalid(QStringLiteral("`%1.rubric.file_id`: file %2 is not UTF-8 text").arg(path, fileId));
    if (text.trimmed().isEmpty() || text.size() > kMaxRubricChars)
        return ApiError::invalid(QStringLiteral("`%1.rubric.file_id`: file %2 must hold 1 to %3 characters of rubric text")
                                     .arg(path, fileId)
                                     .arg(kMaxRubricChars));
    QJsonObject out = event;
    out.insert(QStringLiteral("rubric"),
               QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("content"), text}});
    return out;
}

} // namespace viv
