// Context compaction's pure parts (runtime/Compaction.h, runtime/ContextWindows.h): the window
// table and its override, where a conversation is cut (never between a tool_use and its result),
// the model's view after a compaction, and the size estimate. The end-to-end behaviour (summary
// call, event, restart) is tests/sdk/compaction.test.mjs.

#include "runtime/Compaction.h"
#include "runtime/ContextWindows.h"
#include "runtime/Conversation.h"

#include <QJsonDocument>
#include <QSet>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace viv;

namespace {

QJsonObject msg(const QString &text)
{
    return {{u"type"_s, u"user.message"_s},
            {u"id"_s, QString(u"sevt_m"_s + text.left(8))},
            {u"processed_at"_s, u"2026-01-01T00:00:00Z"_s},
            {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text}}}}};
}
QJsonObject use(const QString &id)
{
    return {{u"type"_s, u"agent.tool_use"_s},
            {u"id"_s, id},
            {u"name"_s, u"read"_s},
            {u"input"_s, QJsonObject{{u"file_path"_s, u"a.txt"_s}}}};
}
QJsonObject result(const QString &id, int bytes)
{
    return {{u"type"_s, u"agent.tool_result"_s},
            {u"id"_s, QString(id + u"_r"_s)},
            {u"tool_use_id"_s, id},
            {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, QString(bytes, u'x')}}}}};
}
QJsonObject answer(const QString &text)
{
    return {{u"type"_s, u"agent.message"_s},
            {u"id"_s, QString(u"sevt_a"_s + text.left(8))},
            {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text}}}}};
}
QJsonObject spanEnd(qint64 input, qint64 output)
{
    return {{u"type"_s, u"span.model_request_end"_s},
            {u"is_error"_s, false},
            {u"model_usage"_s, QJsonObject{{u"input_tokens"_s, double(input)},
                                           {u"output_tokens"_s, double(output)},
                                           {u"cache_read_input_tokens"_s, 0},
                                           {u"cache_creation_input_tokens"_s, 0}}}};
}

QList<compaction::Positioned> positioned(const QList<QJsonObject> &events)
{
    QList<compaction::Positioned> out;
    for (qsizetype i = 0; i < events.size(); ++i)
        out.append({double(i + 1), events.at(i)});
    return out;
}

} // namespace

class TestCompaction : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void builtinWindows()
    {
        const ContextWindows t = ContextWindows::withOverrides({});
        QCOMPARE(t.window(u"claude-sonnet-4-6"_s), std::optional<qint64>(1'000'000));
        QCOMPARE(t.window(u"claude-sonnet-4-5-20250929"_s), std::optional<qint64>(200'000));
        QCOMPARE(t.window(u"anthropic/claude-opus-4-1"_s), std::optional<qint64>(200'000));
        QCOMPARE(t.window(u"claude-opus-4-8"_s), std::optional<qint64>(1'000'000));
        QCOMPARE(t.window(u"claude-haiku-4-5"_s), std::optional<qint64>(200'000));
        QCOMPARE(t.window(u"openai/gpt-4o-mini"_s), std::optional<qint64>(128'000));
        QCOMPARE(t.window(u"gpt-5-mini"_s), std::optional<qint64>(400'000));
        QVERIFY(!t.window(u"llama3.1:8b"_s)); // unknown: never compacted
    }

    void configuredWindows()
    {
        QString problem;
        const ContextWindows t =
            ContextWindows::withOverrides(R"({"llama3": 8192, "*": 4096, "claude-sonnet-4-6": 1234})", &problem);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(t.window(u"claude-sonnet-4-6"_s), std::optional<qint64>(1234));
        QCOMPARE(t.window(u"llama3.1:8b"_s), std::optional<qint64>(8192));
        QCOMPARE(t.window(u"mistral"_s), std::optional<qint64>(4096));
        QCOMPARE(t.window(u"claude-haiku-4-5"_s), std::optional<qint64>(200'000));

        for (const char *bad : {"[1]", R"({"m": "big"})", R"({"m": 0})", R"({"m": 1.5})", "{"}) {
            problem.clear();
            const ContextWindows b = ContextWindows::withOverrides(bad, &problem);
            QVERIFY2(!problem.isEmpty(), bad);
            QCOMPARE(b.window(u"claude-sonnet-4-6"_s), std::optional<qint64>(1'000'000)); // built-ins stay
            QVERIFY(!b.window(u"m"_s));
        }
    }

    // For every window size, the cut leaves each tool_use on the same side as its result.
    void neverSplitsToolPairs()
    {
        const QList<QJsonObject> events = {
            msg(u"first question"_s),  use(u"t1"_s), result(u"t1"_s, 300), answer(u"done one"_s),
            msg(u"second question"_s), use(u"t2"_s), use(u"t3"_s),         result(u"t2"_s, 200),
            result(u"t3"_s, 900),      use(u"t4"_s), result(u"t4"_s, 120)};
        const auto log = positioned(events);
        int cuts = 0;
        QSet<double> boundaries;
        for (qint64 window = 20; window <= 6000; window += 10) {
            const auto p = compaction::plan(log, std::nullopt, window);
            QVERIFY(p);
            ++cuts;
            boundaries.insert(p->boundary);
            QSet<QString> head;
            for (const QJsonObject &e : p->head)
                head.insert(e.value(u"type"_s).toString() == u"agent.tool_use" ? e.value(u"id"_s).toString()
                                                                               : e.value(u"tool_use_id"_s).toString());
            for (const auto &[pos, e] : log) {
                const bool inHead = pos <= p->boundary;
                const QString id = e.value(u"type"_s).toString() == u"agent.tool_use"
                                       ? e.value(u"id"_s).toString()
                                       : e.value(u"tool_use_id"_s).toString();
                if (id.isEmpty())
                    continue;
                QVERIFY2(inHead == head.contains(id),
                         qPrintable(u"window %1: %2 split from its pair"_s.arg(window).arg(id)));
            }
            // The recent part fits its share of the window (or is empty).
            qint64 tail = 0;
            for (const auto &[pos, e] : log)
                if (pos > p->boundary)
                    tail += estimateTokens(e);
            QVERIFY(tail <= window * compaction::kKeepPercent / 100);
        }
        QVERIFY(cuts > 0);
        QVERIFY2(boundaries.size() >= 3,
                 "the cut moves with the window (the property is not checked at one point only)");
        // With a generous window the cut lands where the last user turn starts.
        const auto p = compaction::plan(log, std::nullopt, 100'000);
        QCOMPARE(p->boundary, 4.0);
    }

    void viewStartsWithTheSummary()
    {
        const auto log = positioned({msg(u"old question"_s), answer(u"old answer"_s), msg(u"new question"_s)});
        const compaction::Record rec{u"sevt_c"_s, 2.0, u"S-U-M"_s};
        const QJsonArray messages = buildConversation(compaction::view(log, rec));
        QCOMPARE(messages.size(), 1); // the summary and the new question merge into one user turn
        const QJsonArray content = messages.at(0).toObject().value(u"content"_s).toArray();
        QCOMPARE(content.size(), 2);
        QVERIFY(content.at(0).toObject().value(u"text"_s).toString().contains(u"S-U-M"_s));
        QCOMPARE(content.at(1).toObject().value(u"text"_s).toString(), u"new question"_s);
        QVERIFY(!QJsonDocument(messages).toJson().contains("old question"));
        // A second compaction summarises the previous summary with what followed it.
        const auto p = compaction::plan(log, rec, 10);
        QVERIFY(p);
        QCOMPARE(p->previousSummary, u"S-U-M"_s);
        QCOMPARE(p->head.size(), 1);
        QVERIFY(compaction::request(u"m"_s, *p, 1000)
                    .messages.at(0)
                    .toObject()
                    .value(u"content"_s)
                    .toArray()
                    .at(0)
                    .toObject()
                    .value(u"text"_s)
                    .toString()
                    .contains(u"S-U-M"_s));
    }

    void estimateUsesTheLastUsage()
    {
        ModelRequest req;
        req.messages = QJsonArray{QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, u"hi"_s}}};
        const qint64 bySize = compaction::estimate(req, {}, std::nullopt);
        QVERIFY(bySize > 0 && bySize < 20);
        auto log = positioned({msg(u"q"_s), answer(u"a"_s), spanEnd(5000, 100), msg(QString(400, u'y'))});
        const qint64 byUsage = compaction::estimate(req, log, std::nullopt);
        QVERIFY(byUsage >= 5100 + 100);
        // A compaction after that response makes its usage stale.
        log.append({5.0, QJsonObject{{u"type"_s, u"agent.thread_context_compacted"_s}, {u"id"_s, u"sevt_c"_s}}});
        QCOMPARE(compaction::estimate(req, log, compaction::Record{u"sevt_c"_s, 3.0, u"s"_s}), bySize);
    }
};

QTEST_GUILESS_MAIN(TestCompaction)
#include "tst_compaction.moc"
