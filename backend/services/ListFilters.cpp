#include "ListFilters.h"

#include "core/Clock.h"

#include <QDateTime>

#include <array>

namespace viv::listfilters {

Result<QList<DocTable::Filter>> createdAt(const CreatedAt &bounds)
{
    struct Bound
    {
        const char *name;
        const char *op;
        const QString &value;
    };
    const std::array<Bound, 4> all{{{"created_at[gt]", ">", bounds.gt},
                                    {"created_at[gte]", ">=", bounds.gte},
                                    {"created_at[lt]", "<", bounds.lt},
                                    {"created_at[lte]", "<=", bounds.lte}}};
    QList<DocTable::Filter> out;
    for (const Bound &b : all) {
        if (b.value.isEmpty())
            continue;
        QDateTime t = QDateTime::fromString(b.value, Qt::ISODateWithMs);
        if (!t.isValid() || !b.value.contains(u'T'))
            return ApiError::invalid(QStringLiteral("`%1` must be an RFC 3339 timestamp such as 2026-04-01T12:00:00Z, got \"%2\"")
                                         .arg(QLatin1String(b.name), b.value.left(64)));
        if (t.timeSpec() == Qt::LocalTime)
            t.setTimeSpec(Qt::UTC); // no offset given: read as UTC, like the rest of the API
        out.append({QStringLiteral("created_at %1 ?").arg(QLatin1String(b.op)), {clock::toIso(t)}});
    }
    return out;
}

DocTable::Filter anyOf(const QString &column, const QStringList &values)
{
    Q_ASSERT(!values.isEmpty());
    QStringList marks;
    QVariantList bound;
    for (const QString &v : values) {
        marks << QStringLiteral("?");
        bound << v;
    }
    return {QStringLiteral("%1 IN (%2)").arg(column, marks.join(u',')), bound};
}

} // namespace viv::listfilters
