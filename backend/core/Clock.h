#pragma once

#include <QDateTime>
#include <QString>

namespace viv::clock {

// RFC 3339 UTC with milliseconds, as the API writes timestamps.
QString toIso(const QDateTime &t);
QString nowIso();
QDateTime fromIso(const QString &s);

} // namespace viv::clock
