#include "Clock.h"

namespace viv::clock {

QString toIso(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QString nowIso()
{
    return toIso(QDateTime::currentDateTimeUtc());
}

QDateTime fromIso(const QString &s)
{
    return QDateTime::fromString(s, Qt::ISODateWithMs);
}

} // namespace viv::clock
