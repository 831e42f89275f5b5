#include "AdvisorRoster.h"

#include "ThreadService.h"
#include "core/ApiError.h"

namespace viv::advisor {

using namespace Qt::StringLiterals;

Result<QJsonArray> placeAdvisor(const QJsonArray &roster, const QString &path,
                                const std::function<QString(const QJsonObject &)> &nameOf)
{
    QJsonArray out;
    QJsonObject entry;
    qsizetype at = -1;
    for (qsizetype i = 0; i < roster.size(); ++i) {
        const QJsonObject e = roster.at(i).toObject();
        if (e.value(u"type"_s).toString() != u"advisor") {
            out.append(e);
            continue;
        }
        if (at >= 0)
            return ApiError::invalid(
                u"`%1[%2]`: a roster has at most one advisor entry (`%1[%3]` is one already)"_s.arg(path).arg(i).arg(
                    at));
        entry = e;
        at = i;
    }
    if (at < 0)
        return roster;
    for (qsizetype i = 0; i < roster.size(); ++i) {
        const QJsonObject e = roster.at(i).toObject();
        if (e.value(u"type"_s).toString() == u"agent" && nameOf(e) == threads::kAdvisorName)
            return ApiError::invalid(u"`%1[%2]`: agent %3 is named \"%4\", the roster name reserved for the advisor "
                                     u"entry (`%1[%5]`); rename it or remove the advisor"_s.arg(path)
                                         .arg(i)
                                         .arg(e.value(u"id"_s).toString(), threads::kAdvisorName)
                                         .arg(at));
    }
    out.append(entry); // echoed last, whatever its submitted position
    return out;
}

} // namespace viv::advisor
