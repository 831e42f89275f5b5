// The filters list endpoints share (services/ListFilters.h): created_at bounds parsed one way
// for every list (agents, sessions, events, memory stores, memory versions) and `IN (…)`.
#include "services/ListFilters.h"

#include <QTest>

using namespace viv;

class TstListFilters : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void createdAtBounds()
    {
        auto f = listfilters::createdAt({.gt = QStringLiteral("2026-04-01T12:00:00Z"),
                                         .gte = QStringLiteral("2026-04-01T14:00:00+02:00"),
                                         .lt = QStringLiteral("2026-04-01T12:00:00.5Z"),
                                         .lte = QStringLiteral("2026-04-01T12:00:00")});
        QVERIFY(f.ok());
        QCOMPARE(f->size(), 4);
        QCOMPARE(f->at(0).sql, QStringLiteral("created_at > ?"));
        QCOMPARE(f->at(1).sql, QStringLiteral("created_at >= ?"));
        QCOMPARE(f->at(2).sql, QStringLiteral("created_at < ?"));
        QCOMPARE(f->at(3).sql, QStringLiteral("created_at <= ?"));
        // Stored form (UTC, milliseconds): an offset is converted, none is read as UTC.
        QCOMPARE(f->at(0).values, QVariantList{QStringLiteral("2026-04-01T12:00:00.000Z")});
        QCOMPARE(f->at(1).values, QVariantList{QStringLiteral("2026-04-01T12:00:00.000Z")});
        QCOMPARE(f->at(2).values, QVariantList{QStringLiteral("2026-04-01T12:00:00.500Z")});
        QCOMPARE(f->at(3).values, QVariantList{QStringLiteral("2026-04-01T12:00:00.000Z")});

        auto none = listfilters::createdAt({});
        QVERIFY(none.ok());
        QVERIFY(none->isEmpty());
    }

    void badBoundNamesItsParameter_data()
    {
        QTest::addColumn<QString>("value");
        QTest::newRow("word") << QStringLiteral("yesterday");
        QTest::newRow("date only") << QStringLiteral("2026-04-01");
        QTest::newRow("bad month") << QStringLiteral("2026-13-01T00:00:00Z");
    }
    void badBoundNamesItsParameter()
    {
        QFETCH(QString, value);
        auto f = listfilters::createdAt({.lt = value});
        QVERIFY(!f.ok());
        QCOMPARE(f.error().httpStatus(), 400);
        QVERIFY2(f.error().message().contains(QStringLiteral("`created_at[lt]`")), qPrintable(f.error().message()));
        QVERIFY2(f.error().message().contains(value), qPrintable(f.error().message()));
    }

    void anyOf()
    {
        const DocTable::Filter one = listfilters::anyOf(QStringLiteral("status"), {QStringLiteral("idle")});
        QCOMPARE(one.sql, QStringLiteral("status IN (?)"));
        QCOMPARE(one.values, QVariantList{QStringLiteral("idle")});
        const DocTable::Filter three =
            listfilters::anyOf(QStringLiteral("type"), {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")});
        QCOMPARE(three.sql, QStringLiteral("type IN (?,?,?)"));
        QCOMPARE(three.values, (QVariantList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
    }
};

QTEST_GUILESS_MAIN(TstListFilters)
#include "tst_list_filters.moc"
