// The runtime's before-idle hooks (runtime/BeforeIdleHooks.h; docs/DESIGN.md "Agent runtime →
// Before idle") with a real Backend over its socket and the scripted model provider
// (tests/provider/scripted-provider.mjs, Node, 127.0.0.1): hooks registered by the test stand in
// for the sandbox's memory sync and outputs capture.
//   - session.status_idle (and the row's `idle`) comes only after every hook completed; the
//     turn's last events are committed before the hooks are waited for; hooks are called in the
//     order they were added, with the session id;
//   - a hook that never completes holds the idle no longer than VIVARIUM_BEFORE_IDLE_TIMEOUT_MS;
//   - an interrupt while the hooks run is consumed with the one idle that follows them;
//   - archive while the hooks run answers at once, and a late completion writes nothing.

#include "ApiHarness.h"
#include "../ScriptedProvider.h"

#include <QElapsedTimer>
#include <QTest>

#include "runtime/Runtime.h"

using namespace viv::test;

#define S QStringLiteral

namespace {
constexpr int kBoundMs = 1500; // VIVARIUM_BEFORE_IDLE_TIMEOUT_MS for this test
}

class TestApiBeforeIdle : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;
    ScriptedProvider provider;
    QString envId;
    QString llmVault;
    QString agent;

    enum class Mode { AtOnce, Hold, Never };
    Mode mode = Mode::AtOnce;
    QStringList calls;                 // "<hook>:<session>", in call order
    QList<std::function<void()>> held; // completions of the held hook

    HttpResult send(const QString &sid, const QJsonArray &events)
    {
        return h->post(S("/v1/sessions/%1/events").arg(sid), QJsonObject{{S("events"), events}});
    }
    static QJsonObject message(const QString &text)
    {
        return {{S("type"), S("user.message")},
                {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), text}}}}};
    }
    QJsonArray events(const QString &sid)
    {
        return h->get(S("/v1/sessions/%1/events?limit=1000").arg(sid)).json().value(S("data")).toArray();
    }
    static int count(const QJsonArray &evs, const QString &type)
    {
        int n = 0;
        for (const QJsonValue &v : evs)
            n += v.toObject().value(S("type")).toString() == type;
        return n;
    }
    QString status(const QString &sid)
    {
        return h->get(S("/v1/sessions/%1").arg(sid)).json().value(S("status")).toString();
    }
    QString session()
    {
        return h
            ->create(S("/v1/sessions"),
                     {{S("agent"), agent}, {S("environment_id"), envId}, {S("vault_ids"), QJsonArray{llmVault}}})
            .value(S("id"))
            .toString();
    }
    // Sends one message answered by `reply`; returns once the turn's agent.message is logged.
    QString turnUpToItsLastMessage(const QString &reply)
    {
        provider.enqueue({QJsonObject{{S("text"), reply}}});
        const QString sid = session();
        if (send(sid, {message(S("go"))}).status != 200)
            return {};
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 15000 && count(events(sid), S("agent.message")) == 0)
            QTest::qWait(20);
        return sid;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("VIVARIUM_BEFORE_IDLE_TIMEOUT_MS", QByteArray::number(kBoundMs));
        QVERIFY2(provider.start(), "the scripted provider did not start");
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
        envId = h->create(S("/v1/environments"), {{S("name"), S("env")}}).value(S("id")).toString();
        llmVault =
            h->create(S("/v1/vaults"), {{S("display_name"), S("llm")},
                                        {S("metadata"), QJsonObject{{S("vivarium.llm.provider"), S("anthropic")},
                                                                    {S("vivarium.llm.base_url"), provider.url}}}})
                .value(S("id"))
                .toString();
        h->create(S("/v1/vaults/%1/credentials").arg(llmVault),
                  {{S("auth"),
                    QJsonObject{{S("type"), S("static_bearer")},
                                {S("token"), ApiHarness::recordSecret(S("sk-scripted-before-idle-0123456789"))}}}});
        agent = h->create(S("/v1/agents"), {{S("name"), S("plain")}, {S("model"), S("claude-scripted")}})
                    .value(S("id"))
                    .toString();
        QVERIFY(!envId.isEmpty() && !llmVault.isEmpty() && !agent.isEmpty());
        // Two hooks, as the sandbox registers two: the first one is the test's lever.
        viv::RuntimeManager &rt = h->backend->runtime();
        rt.addBeforeIdleHook(S("held"), [this](const QString &sid, std::function<void()> done) {
            calls << S("held:") + sid;
            if (mode == Mode::AtOnce)
                return done();
            held << std::move(done); // Never: kept, and called by no one
        });
        rt.addBeforeIdleHook(S("quick"), [this](const QString &sid, std::function<void()> done) {
            calls << S("quick:") + sid;
            QTimer::singleShot(10, [done = std::move(done)] { done(); });
        });
    }
    void cleanupTestCase() { h.reset(); }
    void init()
    {
        mode = Mode::AtOnce;
        calls.clear();
        held.clear();
    }

    void theIdleComesAfterEveryHookCompleted()
    {
        mode = Mode::Hold;
        const QString sid = turnUpToItsLastMessage(S("all done"));
        QVERIFY(!sid.isEmpty());
        // The turn's last message is logged; the hooks were called, in order; no idle yet.
        QTRY_COMPARE_WITH_TIMEOUT(calls, (QStringList{S("held:") + sid, S("quick:") + sid}), 5000);
        QTest::qWait(300); // the quick hook has completed long since
        QCOMPARE(count(events(sid), S("session.status_idle")), 0);
        QCOMPARE(status(sid), S("running"));
        QCOMPARE(held.size(), 1);
        held.takeFirst()();
        QTRY_COMPARE_WITH_TIMEOUT(count(events(sid), S("session.status_idle")), 1, 5000);
        QCOMPARE(status(sid), S("idle"));
        const QJsonArray evs = events(sid);
        QCOMPARE(evs.last().toObject().value(S("type")).toString(), S("session.status_idle"));
        QCOMPARE(evs.last().toObject().value(S("stop_reason")).toObject().value(S("type")).toString(), S("end_turn"));
    }

    void everyTurnCallsTheHooksWithItsSession()
    {
        // The held hook answers at once, the quick one a moment later: one idle, after both.
        const QString sid = turnUpToItsLastMessage(S("quick"));
        QTRY_COMPARE_WITH_TIMEOUT(count(events(sid), S("session.status_idle")), 1, 5000);
        QCOMPARE(calls, (QStringList{S("held:") + sid, S("quick:") + sid}));
    }

    void aHookThatNeverCompletesHoldsTheIdleOnlyUpToTheBound()
    {
        mode = Mode::Never;
        QElapsedTimer t;
        t.start();
        const QString sid = turnUpToItsLastMessage(S("hung"));
        const qint64 messageAt = t.elapsed();
        QTRY_COMPARE_WITH_TIMEOUT(count(events(sid), S("session.status_idle")), 1, kBoundMs + 10000);
        const qint64 waited = t.elapsed() - messageAt;
        QVERIFY2(waited >= kBoundMs - 300, qPrintable(S("idle after %1 ms").arg(waited)));
        QCOMPARE(status(sid), S("idle"));
        // The late completion changes nothing.
        QCOMPARE(held.size(), 1);
        held.takeFirst()();
        QTest::qWait(200);
        QCOMPARE(count(events(sid), S("session.status_idle")), 1);
    }

    void anInterruptWhileTheHooksRunIsConsumedWithTheOneIdle()
    {
        mode = Mode::Hold;
        const QString sid = turnUpToItsLastMessage(S("interrupted later"));
        QTRY_COMPARE_WITH_TIMEOUT(held.size(), 1, 5000);
        QCOMPARE(send(sid, {QJsonObject{{S("type"), S("user.interrupt")}}}).status, 200);
        QTest::qWait(300);
        QCOMPARE(count(events(sid), S("session.status_idle")), 0); // still waiting for the hook
        held.takeFirst()();
        QTRY_COMPARE_WITH_TIMEOUT(count(events(sid), S("session.status_idle")), 1, 5000);
        QTest::qWait(300);
        const QJsonArray evs = events(sid);
        QCOMPARE(count(evs, S("session.status_idle")), 1);
        for (const QJsonValue &v : evs)
            if (v.toObject().value(S("type")).toString() == u"user.interrupt")
                QVERIFY(v.toObject().value(S("processed_at")).isString());
        QCOMPARE(status(sid), S("idle"));
        // The session works on normally.
        mode = Mode::AtOnce;
        provider.enqueue({QJsonObject{{S("text"), S("again")}}});
        QCOMPARE(send(sid, {message(S("next"))}).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(count(events(sid), S("session.status_idle")), 2, 10000);
    }

    void archiveWhileTheHooksRunAnswersAtOnce()
    {
        mode = Mode::Hold;
        const QString sid = turnUpToItsLastMessage(S("archived later"));
        QTRY_COMPARE_WITH_TIMEOUT(held.size(), 1, 5000);
        const auto a = h->post(S("/v1/sessions/%1/archive").arg(sid), {});
        QVERIFY2(a.status == 200, a.body.constData());
        QCOMPARE(count(events(sid), S("session.status_idle")), 1);
        held.takeFirst()(); // late: nothing more is written
        QTest::qWait(300);
        QCOMPARE(count(events(sid), S("session.status_idle")), 1);
        QVERIFY(h->get(S("/v1/sessions/%1").arg(sid)).json().value(S("archived_at")).isString());
    }
};

QTEST_GUILESS_MAIN(TestApiBeforeIdle)
#include "tst_api_before_idle.moc"
