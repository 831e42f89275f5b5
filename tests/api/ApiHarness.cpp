#include "ApiHarness.h"

#include "store/Database.h"

#include <QSqlQuery>

namespace viv::test {

int ApiHarness::rowCount(const QString &table)
{
    QSqlQuery q = backend->database().query(QStringLiteral("SELECT COUNT(*) FROM %1").arg(table));
    if (!backend->database().exec(q) || !q.next())
        return -1;
    return q.value(0).toInt();
}

} // namespace viv::test
