// runtime/ToolRouter: each call runs on the executor installed for its toolset (ToolCall::toolset),
// a toolset without an executor is refused with an is_error result naming it, and the
// ToolExecutor contract (the answer comes later, never re-entrantly; a cancelled call never
// answers) holds for both. The built-in executor is the runtime's real no-sandbox one; the MCP
// slot holds a recording executor (a real McpTools needs a session store and a server: the API
// and SDK MCP tests run it through the router end to end).

#include "runtime/ToolRouter.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

#include <optional>

using namespace viv;

namespace {

QString text(const ToolResult &r)
{
    return r.content.at(0).toObject().value(QStringLiteral("text")).toString();
}

class RecordingExecutor final : public ToolExecutor
{
public:
    explicit RecordingExecutor(QString label) : m_label(std::move(label)) {}
    std::unique_ptr<ToolExecution> execute(const ToolCall &call, std::function<void(ToolResult)> done) override
    {
        calls.append(call);
        const QString answer = QStringLiteral("%1:%2").arg(m_label, call.name);
        ToolResult result{
            QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), answer}}},
            false};
        return deferredToolResult(std::move(result), std::move(done));
    }
    void releaseSession(const QString &sessionId) override { released.append(sessionId); }

    QList<ToolCall> calls;
    QStringList released;

private:
    QString m_label;
};

ToolCall call(const QString &name, Toolset toolset, const QString &server = {})
{
    return ToolCall{QStringLiteral("sesn_1"),
                    QStringLiteral("env_1"),
                    QStringLiteral("sevt_1"),
                    name,
                    QJsonObject{},
                    server,
                    toolset};
}

// Runs `c` and waits for its answer; fails if the answer comes re-entrantly (inside execute()).
std::optional<ToolResult> run(ToolRouter &router, const ToolCall &c)
{
    std::optional<ToolResult> result;
    auto handle = router.execute(c, [&result](const ToolResult &r) { result = r; });
    if (result.has_value()) {
        QTest::qFail("the router answered inside execute()", __FILE__, __LINE__);
        return result;
    }
    QTest::qWait(0);
    for (int i = 0; i < 100 && !result; ++i)
        QTest::qWait(10);
    return result;
}

} // namespace

class TestToolRouter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dispatchesEachCallByItsToolset()
    {
        ToolRouter router;
        router.install(Toolset::Builtin, makeNoSandboxToolExecutor());
        RecordingExecutor mcp(QStringLiteral("mcp"));
        router.attach(Toolset::Mcp, mcp);

        const auto builtin = run(router, call(QStringLiteral("bash"), Toolset::Builtin));
        QVERIFY(builtin);
        QVERIFY(builtin->isError);
        QVERIFY2(text(*builtin).contains(QStringLiteral("no sandbox is available")), qPrintable(text(*builtin)));
        QVERIFY(mcp.calls.isEmpty()); // the built-in call never reached the MCP executor

        const auto viaMcp = run(router, call(QStringLiteral("echo"), Toolset::Mcp, QStringLiteral("files")));
        QVERIFY(viaMcp);
        QVERIFY(!viaMcp->isError);
        QCOMPARE(text(*viaMcp), QStringLiteral("mcp:echo"));
        QCOMPARE(mcp.calls.size(), 1);
        QCOMPARE(mcp.calls.at(0).mcpServer, QStringLiteral("files"));
        QCOMPARE(mcp.calls.at(0).toolUseId, QStringLiteral("sevt_1"));
        QCOMPARE(router.executor(Toolset::Mcp), &mcp);
    }

    void refusesAToolsetWithoutAnExecutor()
    {
        ToolRouter router;
        RecordingExecutor mcp(QStringLiteral("mcp"));
        router.attach(Toolset::Mcp, mcp);

        // Custom tools are the client's: nothing runs them here.
        const auto custom = run(router, call(QStringLiteral("lookup"), Toolset::Custom));
        QVERIFY(custom);
        QVERIFY(custom->isError);
        QVERIFY2(text(*custom).contains(QStringLiteral("custom toolset")), qPrintable(text(*custom)));
        QVERIFY2(text(*custom).contains(QStringLiteral("lookup")), qPrintable(text(*custom)));

        // No built-in executor installed: refused naming the toolset, not sent to MCP.
        QVERIFY(!router.executor(Toolset::Builtin));
        const auto builtin = run(router, call(QStringLiteral("bash"), Toolset::Builtin));
        QVERIFY(builtin);
        QVERIFY(builtin->isError);
        QVERIFY2(text(*builtin).contains(QStringLiteral("builtin toolset")), qPrintable(text(*builtin)));
        QVERIFY(mcp.calls.isEmpty());

        // A refused call that is cancelled never answers.
        bool answered = false;
        auto handle = router.execute(call(QStringLiteral("lookup"), Toolset::Custom),
                                     [&answered](const ToolResult &) { answered = true; });
        handle->cancel();
        QTest::qWait(50);
        QVERIFY(!answered);
    }

    void installReplacesAndReleaseReachesEveryExecutor()
    {
        ToolRouter router;
        auto first = std::make_unique<RecordingExecutor>(QStringLiteral("first"));
        router.install(Toolset::Builtin, std::move(first));
        auto second = std::make_unique<RecordingExecutor>(QStringLiteral("second"));
        RecordingExecutor *secondRef = second.get();
        router.install(Toolset::Builtin, std::move(second)); // the sandbox module replaces the no-sandbox one
        RecordingExecutor mcp(QStringLiteral("mcp"));
        router.attach(Toolset::Mcp, mcp);

        const auto r = run(router, call(QStringLiteral("read"), Toolset::Builtin));
        QVERIFY(r);
        QCOMPARE(text(*r), QStringLiteral("second:read"));

        router.releaseSession(QStringLiteral("sesn_9"));
        QCOMPARE(secondRef->released, QStringList{QStringLiteral("sesn_9")});
        QCOMPARE(mcp.released, QStringList{QStringLiteral("sesn_9")});

        router.install(Toolset::Builtin, nullptr); // uninstalled: refused again
        const auto refused = run(router, call(QStringLiteral("read"), Toolset::Builtin));
        QVERIFY(refused);
        QVERIFY(refused->isError);
        QVERIFY(text(*refused).contains(QStringLiteral("builtin toolset")));
    }
};

QTEST_GUILESS_MAIN(TestToolRouter)
#include "tst_tool_router.moc"
